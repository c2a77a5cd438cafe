// Shared pieces of the importers (import_*.cc): the rule builder that records
// every change, and text helpers. Not installed.
#ifndef PINION_TOOLING_SRC_IMPORT_INTERNAL_H_
#define PINION_TOOLING_SRC_IMPORT_INTERNAL_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "pinion/policy.h"
#include "pinion/tooling/import.h"

namespace pinion::tooling::import_internal {

// CleanLabel keeps printable ASCII and valid UTF-8 (what IsCleanText allows),
// replacing anything else with '?', at most 256 bytes.
std::string CleanLabel(std::string_view text);
std::string Trim(std::string_view text);

// LineIndex turns byte offsets into 1-based line numbers.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  std::uint32_t LineOf(std::size_t offset) const;

 private:
  std::vector<std::size_t> line_starts_;
};

// XmlLabel is the label of a pin element: the comment after it on the same
// line, or else the comment on its own line right before it. A comment that
// trails one element never labels the next. `text` is the parsed buffer.
std::string XmlLabel(pugi::xml_node element, std::string_view text);
// XmlLine is the 1-based line of a node in `index`'s text.
std::uint32_t XmlLine(pugi::xml_node node, const LineIndex& index);

// A rule being read, before its host is known to be valid.
struct Draft {
  EnforcementMode mode = EnforcementMode::kEnforce;
  std::optional<TimePoint> expires;
  std::vector<std::string> report_uris;
  std::vector<PinEntry> pins;
  TrustAnchors anchors;  // the system store unless the source names its own
};

// Builder collects rules and the changes made on the way.
class Builder {
 public:
  explicit Builder(const ImportOptions& options) : options_(options) {}

  Error Fail(ErrorCode code, std::string message) const {
    return Error(code, std::move(message)).WithSource(options_.source_name);
  }
  void Lossy(std::string domain, std::uint32_t line, std::string reason);
  void Note(std::string domain, std::uint32_t line, std::string reason);

  // Add parses the host and keeps the rule; a host pinion refuses (public
  // suffix, bad syntax), a rule without pins and a second rule for the same
  // pattern are left out as lossy changes.
  void Add(const std::string& host_text, bool include_subdomains, Draft draft, std::uint32_t line);

  // Unpinned records a host (and, with include_subdomains, all below it) the
  // source deliberately leaves unpinned. Finish checks whether an imported
  // rule would pin it anyway; pinion cannot say "not pinned" under a covering
  // rule, so that is a lossy change, expressed as the closest rule there is: a
  // report-only rule without report URI, which never refuses a connection.
  void Unpinned(const std::string& host_text, bool include_subdomains, std::uint32_t line, std::string why);

  Result<ImportResult> Finish();

 private:
  struct Exclusion {
    std::string host_text;
    bool include_subdomains = false;
    std::uint32_t line = 0;
    std::string why;
  };
  void ResolveExclusions();

  const ImportOptions& options_;
  std::vector<DomainRule> rules_;
  std::vector<ImportChange> changes_;
  std::vector<Exclusion> exclusions_;
  std::set<std::string> seen_;
};

// MostSpecificRule returns the rule pinion would pick for `normalized_host`
// among `rules` (exact, then "*.parent", then the longest subtree), or null.
const DomainRule* MostSpecificRule(const std::vector<DomainRule>& rules, std::string_view normalized_host);

Result<Pin> Base64Sha256Pin(const std::string& base64, const ImportOptions& options, const std::string& where);

Status ImportAndroid(std::string_view text, Builder& builder, const ImportOptions& options);
Status ImportHpkp(std::string_view text, Builder& builder, const ImportOptions& options);
Status ImportTrustKit(std::string_view text, Builder& builder, const ImportOptions& options);
Status ImportOkHttp(std::string_view text, Builder& builder, const ImportOptions& options);
Status ImportChromium(std::string_view text, Builder& builder, const ImportOptions& options);

}  // namespace pinion::tooling::import_internal

#endif  // PINION_TOOLING_SRC_IMPORT_INTERNAL_H_
