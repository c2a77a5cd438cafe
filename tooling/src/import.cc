// pinion import: the format table, the rule builder shared by every importer,
// and the two small formats (android-nsc, hpkp). The others are in
// import_trustkit.cc, import_okhttp.cc and import_chromium.cc.
#include "pinion/tooling/import.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "import_internal.h"
#include "pinion/pin_formats.h"
#include "pinion/pin_source.h"

namespace pinion::tooling {
namespace import_internal {

std::string CleanLabel(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() < 256;) {
    std::size_t length = 1;
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0xC2 && c <= 0xF4) length = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::string_view piece = text.substr(i, length);
    bool clean = IsCleanText(piece) && piece.size() == length;
    out += clean ? std::string(piece) : std::string("?");
    i += clean ? length : 1;
  }
  return out;
}

std::string Trim(std::string_view text) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

LineIndex::LineIndex(std::string_view text) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts_.push_back(i + 1);
  }
}

std::uint32_t LineIndex::LineOf(std::size_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  return static_cast<std::uint32_t>(it - line_starts_.begin());
}

namespace {

// OnOwnLine: only blanks precede the comment on its line, so it does not trail
// another element.
bool OnOwnLine(pugi::xml_node comment, std::string_view text) {
  auto offset = static_cast<std::size_t>(std::max<std::ptrdiff_t>(comment.offset_debug(), 0));
  std::size_t start = text.rfind("<!--", std::min(offset, text.size()));
  if (start == std::string_view::npos) return false;
  for (std::size_t i = start; i > 0; --i) {
    char c = text[i - 1];
    if (c == '\n' || c == '\r') return true;
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

}  // namespace

std::string XmlLabel(pugi::xml_node element, std::string_view text) {
  pugi::xml_node next = element.next_sibling();
  if (next.type() == pugi::node_comment && !OnOwnLine(next, text)) return CleanLabel(Trim(next.value()));
  pugi::xml_node previous = element.previous_sibling();
  if (previous.type() == pugi::node_comment && OnOwnLine(previous, text)) return CleanLabel(Trim(previous.value()));
  return {};
}

std::uint32_t XmlLine(pugi::xml_node node, const LineIndex& index) {
  std::ptrdiff_t offset = node.offset_debug();
  return offset < 0 ? 0 : index.LineOf(static_cast<std::size_t>(offset));
}

void Builder::Lossy(std::string domain, std::uint32_t line, std::string reason) {
  changes_.push_back({ImportChangeKind::kLossy, CleanLabel(domain), line, std::move(reason)});
}

void Builder::Note(std::string domain, std::uint32_t line, std::string reason) {
  changes_.push_back({ImportChangeKind::kNote, CleanLabel(domain), line, std::move(reason)});
}

void Builder::Add(const std::string& host_text, bool include_subdomains, Draft draft, std::uint32_t line) {
  auto host = HostPattern::Parse(host_text, include_subdomains);
  if (!host) {
    Lossy(host_text, line, "left out, so the host is not pinned: " + host.error().message());
    return;
  }
  std::string key = host->ToString();
  if (draft.pins.empty()) {
    Lossy(key, line, "left out, so the host is not pinned: no pin pinion can express");
    return;
  }
  if (!seen_.insert(key).second) {
    Lossy(key, line, "a second rule for the same pattern is left out (pinion keeps one rule per pattern)");
    return;
  }
  DomainRule rule{.host = std::move(*host), .mode = draft.mode, .expires = draft.expires,
                  .anchors = std::move(draft.anchors)};
  for (std::string& uri : draft.report_uris) {
    if (IsValidReportUri(uri)) {
      rule.report_uris.push_back(std::move(uri));
    } else {
      Lossy(key, line, "report URI '" + CleanLabel(uri) + "' is not an http(s) URI; no reports go there");
    }
  }
  if (rule.report_uris.size() > kMaxReportUris) {
    Lossy(key, line, "only the first " + std::to_string(kMaxReportUris) + " report URIs are kept");
    rule.report_uris.resize(kMaxReportUris);
  }
  // One entry per pin: inputs sometimes list a key twice, which changes nothing.
  for (PinEntry& entry : draft.pins) {
    bool duplicate = std::any_of(rule.pins.begin(), rule.pins.end(), [&](const PinEntry& kept) { return kept.pin == entry.pin; });
    if (!duplicate) rule.pins.push_back(std::move(entry));
  }
  rule.source_line = line;
  rules_.push_back(std::move(rule));
}

void Builder::Unpinned(const std::string& host_text, bool include_subdomains, std::uint32_t line, std::string why) {
  exclusions_.push_back({host_text, include_subdomains, line, std::move(why)});
}

const DomainRule* MostSpecificRule(const std::vector<DomainRule>& rules, std::string_view normalized_host) {
  const DomainRule* best = nullptr;
  auto rank = [](const DomainRule& rule) {
    switch (rule.host.kind()) {
      case HostPatternKind::kExact: return std::size_t{3} << 20;
      case HostPatternKind::kWildcard: return std::size_t{2} << 20;
      case HostPatternKind::kSubtree: return (std::size_t{1} << 20) + rule.host.base().size();
    }
    return std::size_t{0};
  };
  for (const DomainRule& rule : rules) {
    if (rule.host.Matches(normalized_host) && (best == nullptr || rank(rule) > rank(*best))) best = &rule;
  }
  return best;
}

void Builder::ResolveExclusions() {
  for (const Exclusion& exclusion : exclusions_) {
    auto host = HostPattern::Parse(exclusion.host_text, exclusion.include_subdomains);
    if (!host) {
      // Not a name pinion can hold: no rule can cover it either unless its
      // parent is pinned, which the match below cannot see. Say so.
      Lossy(exclusion.host_text, exclusion.line, "cannot be read as a host (" + host.error().message() + "); " + exclusion.why);
      continue;
    }
    const DomainRule* covering = MostSpecificRule(rules_, host->base());
    if (covering == nullptr) {
      Note(host->ToString(), exclusion.line, exclusion.why + "; no imported rule covers it, so it stays unpinned");
      continue;
    }
    if (covering->host == *host) {
      Lossy(host->ToString(), exclusion.line, exclusion.why + ", but the input also pins the same pattern; the pinned rule is kept");
      continue;
    }
    std::string covering_host = covering->host.ToString();
    DomainRule rule{.host = *host, .mode = EnforcementMode::kReportOnly, .pins = covering->pins};
    rule.source_line = exclusion.line;
    Lossy(host->ToString(), exclusion.line,
          exclusion.why + ", but " + covering_host +
              " covers it and a pinion policy cannot leave a host unpinned under a covering rule: imported as a "
              "report-only rule without report URI (never refuses a connection; mismatches are only logged)");
    seen_.insert(host->ToString());
    rules_.push_back(std::move(rule));
  }
  exclusions_.clear();
}

Result<ImportResult> Builder::Finish() {
  ResolveExclusions();
  if (rules_.empty()) return Fail(ErrorCode::kPolicySchema, "nothing to import: no pinned domain found");
  PINION_ASSIGN_OR_RETURN(PolicySnapshot policy, Policy::Create(options_.version, std::move(rules_)));
  return ImportResult{std::move(policy), std::move(changes_)};
}

Result<Pin> Base64Sha256Pin(const std::string& base64, const ImportOptions& options, const std::string& where) {
  auto pin = Pin::Parse("sha256/" + base64);
  if (!pin) return std::move(pin).error().WithSource(options.source_name).WithField(where);
  return *pin;
}

// --- android-nsc ---------------------------------------------------------------

namespace {

struct NscPins {
  std::vector<PinEntry> pins;
  std::optional<TimePoint> expires;
  bool set = false;
  TrustAnchors anchors;  // nested domain-configs inherit trust-anchors as they inherit the pin-set
};

struct NscContext {
  Builder& builder;
  const ImportOptions& options;
  std::string_view text;
  LineIndex lines;
  int index = 0;
};

// ImportNscTrustAnchors reads a domain-config's <trust-anchors>. "system" is
// pinion's default; "@raw/NAME" certificates are read from the app's
// res/raw/NAME.* when ImportOptions::android_resources names res/, and then
// replace the store as pinion's `anchors` do. What pinion cannot express —
// user-added CAs, the system store together with a bundle, overridePins — is
// a lossy change; the closest policy keeps the system store.
Result<TrustAnchors> ImportNscTrustAnchors(pugi::xml_node trust_anchors, const std::string& where,
                                           std::uint32_t line, NscContext& context) {
  Builder& builder = context.builder;
  bool system = false;
  TrustAnchors bundle{.path = "(inline)", .embedded = true};
  std::vector<std::string> unread;
  for (pugi::xml_node certificates : trust_anchors.children("certificates")) {
    std::string src = Trim(certificates.attribute("src").value());
    if (std::string_view(certificates.attribute("overridePins").value()) == "true") {
      builder.Lossy(where, line, "certificates " + CleanLabel(src) + " have overridePins: Android skips the pins for "
                                 "chains to them, pinion never does");
    }
    if (src == "system") {
      system = true;
    } else if (src == "user") {
      builder.Lossy(where, line, "trust-anchors include the user-added CAs of the device; pinion cannot trust them");
    } else if (src.starts_with("@raw/") && src.size() > 5 && src.find('/', 5) == std::string::npos) {
      if (context.options.android_resources.empty()) {
        unread.push_back(src);
        continue;
      }
      std::string name = src.substr(5);
      std::filesystem::path found;
      std::error_code ignored;
      for (const auto& entry : std::filesystem::directory_iterator(
               std::filesystem::path(context.options.android_resources) / "raw", ignored)) {
        if (entry.path().stem() == name) found = entry.path();
      }
      if (found.empty()) {
        return Error(ErrorCode::kPolicyAnchors, "trust-anchors name " + CleanLabel(src) + ", which is not in " +
                                                    context.options.android_resources + "/raw")
            .WithSource(context.options.source_name)
            .WithField(where + ".trust-anchors");
      }
      PINION_ASSIGN_OR_RETURN(auto certificates_der, ReadCertificatesFromFile(found));
      for (auto& der : certificates_der) bundle.certificates_der.push_back(std::move(der));
    } else {
      builder.Lossy(where, line, "trust-anchors source '" + CleanLabel(src) + "' is not one pinion can read");
    }
  }
  if (!unread.empty()) {
    builder.Lossy(where, line, "trust-anchors " + unread.front() + (unread.size() > 1 ? " …" : "") +
                               " are app resources: the system store is used; pass the app's res/ directory "
                               "(pinion import --res DIR) to read them");
    return TrustAnchors{};
  }
  if (!trust_anchors.child("certificates")) {
    builder.Lossy(where, line, "trust-anchors lists no certificates, so Android trusts no CA for these domains "
                               "(every connection fails); pinion keeps the system store");
  }
  if (bundle.certificates_der.empty()) return TrustAnchors{};  // the system store (or nothing pinion can use)
  if (system) {
    builder.Lossy(where, line, "Android trusts the system store and the bundle together; a pinion rule trusts one: "
                               "the system store is kept");
    return TrustAnchors{};
  }
  if (bundle.certificates_der.size() > kMaxAnchorsPerDomain) {
    return Error(ErrorCode::kPolicyAnchors, "more than " + std::to_string(kMaxAnchorsPerDomain) + " anchors")
        .WithSource(context.options.source_name)
        .WithField(where + ".trust-anchors");
  }
  return bundle;
}

Status ImportNscDomainConfig(pugi::xml_node config, const NscPins& inherited, NscContext& context) {
  std::string where = "domain-config[" + std::to_string(context.index++) + "]";
  std::uint32_t config_line = XmlLine(config, context.lines);
  NscPins pins = inherited;
  if (pugi::xml_node pin_set = config.child("pin-set")) {
    pins = NscPins{{}, std::nullopt, true};
    if (const char* expiration = pin_set.attribute("expiration").value(); *expiration != '\0') {
      auto expires = ParseTimestamp(expiration);
      if (!expires) {
        return std::move(expires).error().WithSource(context.options.source_name).WithField(where + ".pin-set.expiration");
      }
      pins.expires = *expires;
    }
    for (pugi::xml_node pin : pin_set.children("pin")) {
      std::string digest = pin.attribute("digest").value();
      if (digest != "SHA-256") {
        context.builder.Lossy(where, XmlLine(pin, context.lines),
                              "a pin with digest '" + CleanLabel(digest) + "' is left out (Android accepts SHA-256 only)");
        continue;
      }
      PINION_ASSIGN_OR_RETURN(Pin value, Base64Sha256Pin(Trim(pin.text().get()), context.options, where + ".pin"));
      pins.pins.push_back({value, XmlLabel(pin, context.text), PinRole::kUnspecified});
    }
  }
  if (pugi::xml_node trust_anchors = config.child("trust-anchors")) {
    PINION_ASSIGN_OR_RETURN(pins.anchors, ImportNscTrustAnchors(trust_anchors, where, config_line, context));
  }
  for (pugi::xml_node domain : config.children("domain")) {
    std::string host = Trim(domain.text().get());
    bool subdomains = std::string_view(domain.attribute("includeSubdomains").value()) == "true";
    std::uint32_t line = XmlLine(domain, context.lines);
    if (pins.set) {
      Draft rule;
      rule.pins = pins.pins;
      rule.expires = pins.expires;
      rule.anchors = pins.anchors;
      context.builder.Add(host, subdomains, std::move(rule), line);
    } else {
      // The most specific domain-config decides on Android: one without a
      // pin-set leaves its domains unpinned even under a pinned parent.
      context.builder.Unpinned(host, subdomains, line, "Android does not pin it (its domain-config has no pin-set)");
    }
  }
  for (pugi::xml_node nested : config.children("domain-config")) {
    PINION_TRY(ImportNscDomainConfig(nested, pins, context));  // nested configs inherit the pin-set
  }
  return OkStatus();
}

}  // namespace

Status ImportAndroid(std::string_view text, Builder& builder, const ImportOptions& options) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_comments,
                                                       pugi::encoding_utf8);
  if (!parsed) return builder.Fail(ErrorCode::kPolicySyntax, std::string("not well-formed XML: ") + parsed.description());
  pugi::xml_node root = document.child("network-security-config");
  if (!root) return builder.Fail(ErrorCode::kPolicySchema, "no <network-security-config> element");
  NscContext context{builder, options, text, LineIndex(text)};
  if (pugi::xml_node debug = root.child("debug-overrides")) {
    builder.Note("", XmlLine(debug, context.lines),
                 "debug-overrides apply to debuggable builds only; pinion's override exists only in code");
  }
  for (pugi::xml_node config : root.children("domain-config")) PINION_TRY(ImportNscDomainConfig(config, {}, context));
  return OkStatus();
}

// --- hpkp ----------------------------------------------------------------------

Status ImportHpkp(std::string_view text, Builder& builder, const ImportOptions& options) {
  if (options.host.empty()) return builder.Fail(ErrorCode::kInvalidArgument, "an HPKP header needs the host that sent it (--host)");
  // The header line; '#' lines (as in pinion's own export) are comments.
  std::string value;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = std::min(text.find('\n', start), text.size());
    std::string line = Trim(text.substr(start, end - start));
    if (!line.empty() && !line.starts_with("#")) value += (value.empty() ? "" : " ") + line;
    start = end + 1;
  }
  bool report_only = false;
  for (std::string_view name : {"public-key-pins-report-only:", "public-key-pins:"}) {
    std::string lower = value.substr(0, name.size());
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == name) {
      report_only = name.find("report-only") != std::string_view::npos;
      value = Trim(value.substr(name.size()));
      break;
    }
  }
  auto header = ParseHpkpHeader(value);
  if (!header) return std::move(header).error().WithSource(options.source_name);
  Draft rule;
  rule.mode = report_only ? EnforcementMode::kReportOnly : EnforcementMode::kEnforce;
  for (const Pin& pin : header->pins) rule.pins.push_back({pin, "", PinRole::kUnspecified});
  if (header->max_age_seconds) {
    // RFC 7469 §4.1 lets a client cap max-age; a year is generous for pins.
    constexpr std::int64_t kMaxAge = 365 * 86400;
    std::int64_t max_age = *header->max_age_seconds;
    if (max_age > kMaxAge) {
      builder.Lossy(options.host, 0, "max-age " + std::to_string(max_age) + " is capped at one year (RFC 7469 section 4.1)");
      max_age = kMaxAge;
    }
    rule.expires = options.now + std::chrono::seconds(max_age);
  }
  if (header->report_uri) rule.report_uris.push_back(*header->report_uri);
  if (!header->max_age_seconds && !report_only) {
    // RFC 7469 §2.1.2 makes max-age required: a browser ignores this header.
    builder.Lossy(options.host, 0, "the header has no max-age, so browsers ignore it (RFC 7469); imported as pinned, without expiry");
  }
  builder.Add(options.host, header->include_subdomains, std::move(rule), 0);
  return OkStatus();
}

}  // namespace import_internal


std::string ImportChange::ToString() const {
  std::string out(ImportChangeKindName(kind));
  out += ": ";
  if (line != 0) out += "line " + std::to_string(line) + ": ";
  if (!domain.empty()) out += domain + ": ";
  return out + reason;
}

bool ImportResult::lossy() const {
  return std::any_of(changes.begin(), changes.end(), [](const ImportChange& c) { return c.kind == ImportChangeKind::kLossy; });
}

std::vector<std::string_view> ImportFormatNames() {
  std::vector<std::string_view> names;
  for (const auto& entry : kImportFormatNames.all()) names.push_back(entry.name);
  return names;
}

Result<ImportFormat> ParseImportFormat(std::string_view name) {
  if (auto format = kImportFormatNames.Parse(name)) return *format;
  return Error(ErrorCode::kInvalidArgument, "unknown import format '" + std::string(name) + "'");
}

Result<ImportResult> ImportPolicy(std::string_view text, ImportFormat format, const ImportOptions& options) {
  using namespace import_internal;
  if (text.size() > kMaxImportBytes || options.chromium_pins.size() > kMaxImportBytes) {
    return Error(ErrorCode::kInputTooLarge, "input larger than " + std::to_string(kMaxImportBytes) + " bytes")
        .WithSource(options.source_name);
  }
  Builder builder(options);
  Status status;
  switch (format) {
    case ImportFormat::kAndroidNsc: status = ImportAndroid(text, builder, options); break;
    case ImportFormat::kHpkp: status = ImportHpkp(text, builder, options); break;
    case ImportFormat::kTrustKit: status = ImportTrustKit(text, builder, options); break;
    case ImportFormat::kOkHttp: status = ImportOkHttp(text, builder, options); break;
    case ImportFormat::kChromium: status = ImportChromium(text, builder, options); break;
  }
  if (!status) return std::move(status).error();
  return builder.Finish();
}

}  // namespace pinion::tooling
