// pinion import --from trustkit: TSKConfiguration / TSKPinnedDomains in an XML
// or binary property list. Binary plists are converted to XML by libplist
// (the library plistutil is built on); comments, hence labels, exist only in XML.
#include <plist/plist.h>

#include <memory>

#include "import_internal.h"

namespace pinion::tooling::import_internal {
namespace {

constexpr std::string_view kBinaryPlistMagic = "bplist00";

struct PlistFree {
  void operator()(plist_t node) const { plist_free(node); }
};
struct PlistXmlFree {
  void operator()(char* xml) const { plist_to_xml_free(xml); }
};

// BinaryPlistToXml re-encodes a binary plist as XML with libplist.
Result<std::string> BinaryPlistToXml(std::string_view bytes, const Builder& builder) {
  plist_t parsed = nullptr;
  plist_from_bin(bytes.data(), static_cast<std::uint32_t>(bytes.size()), &parsed);
  std::unique_ptr<void, PlistFree> root(parsed);
  if (root == nullptr) return builder.Fail(ErrorCode::kPolicySyntax, "not a valid binary property list");
  char* xml = nullptr;
  std::uint32_t length = 0;
  plist_to_xml(root.get(), &xml, &length);
  std::unique_ptr<char, PlistXmlFree> owned(xml);
  if (owned == nullptr) return builder.Fail(ErrorCode::kPolicySyntax, "the binary property list could not be converted");
  return std::string(owned.get(), length);
}

// The value following <key>name</key> in a plist <dict>.
pugi::xml_node PlistValue(pugi::xml_node dict, std::string_view name) {
  for (pugi::xml_node key = dict.child("key"); key; key = key.next_sibling("key")) {
    if (name == key.text().get()) return key.next_sibling();
  }
  return {};
}

// PlistBool reads a value as TrustKit's `boolValue` does: <true/>/<false/>,
// a number (non-zero is true), or a string starting with Y, y, T, t or 1-9.
std::optional<bool> PlistBool(pugi::xml_node value) {
  std::string_view type = value.name();
  if (type == "true") return true;
  if (type == "false") return false;
  std::string text = Trim(value.text().get());
  if (type == "integer" || type == "real") {
    return text.find_first_of("123456789") != std::string::npos;
  }
  if (type == "string") {
    std::size_t first = text.find_first_not_of("+-0");
    if (text.empty()) return false;
    char c = text[0];
    if (c == 'Y' || c == 'y' || c == 'T' || c == 't') return true;
    return first != std::string::npos && text[first] >= '1' && text[first] <= '9';
  }
  return std::nullopt;
}

}  // namespace

Status ImportTrustKit(std::string_view input, Builder& builder, const ImportOptions& options) {
  std::string converted;
  bool binary = input.starts_with(kBinaryPlistMagic);
  if (binary) {
    PINION_ASSIGN_OR_RETURN(converted, BinaryPlistToXml(input, builder));
  }
  std::string_view text = binary ? std::string_view(converted) : input;
  LineIndex lines(text);
  auto line_of = [&](pugi::xml_node node) { return binary ? 0u : XmlLine(node, lines); };

  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_comments,
                                                       pugi::encoding_utf8);
  if (!parsed) return builder.Fail(ErrorCode::kPolicySyntax, std::string("not well-formed XML: ") + parsed.description());
  pugi::xml_node root = document.child("plist").child("dict");
  pugi::xml_node configuration = PlistValue(root, "TSKConfiguration");
  pugi::xml_node domains = PlistValue(configuration ? configuration : root, "TSKPinnedDomains");
  if (!domains || std::string_view(domains.name()) != "dict") {
    return builder.Fail(ErrorCode::kPolicySchema, "no TSKPinnedDomains dictionary");
  }
  for (pugi::xml_node key = domains.child("key"); key; key = key.next_sibling("key")) {
    std::string host = Trim(key.text().get());
    std::uint32_t line = line_of(key);
    pugi::xml_node settings = key.next_sibling();
    if (std::string_view(settings.name()) != "dict") return builder.Fail(ErrorCode::kPolicySchema, host + ": expected a dictionary");
    auto flag = [&](std::string_view name) { return PlistBool(PlistValue(settings, name)); };

    // TrustKit's constant kTSKExcludeSubdomainFromParentPolicy is the string
    // "kSKExcludeSubdomainFromParentPolicy"; its documentation spells it
    // TSKExcludeSubdomainFromParentPolicy. Either means the same here.
    if (flag("kSKExcludeSubdomainFromParentPolicy").value_or(false) ||
        flag("TSKExcludeSubdomainFromParentPolicy").value_or(false)) {
      // TrustKit looks the exact name up first, so only this name is excluded;
      // names below it still fall to the parent's TSKIncludeSubdomains.
      builder.Unpinned(host, false, line, "TrustKit does not pin it (TSKExcludeSubdomainFromParentPolicy)");
      continue;
    }
    Draft rule;
    if (pugi::xml_node hashes = PlistValue(settings, "TSKPublicKeyHashes")) {
      for (pugi::xml_node hash : hashes.children("string")) {
        PINION_ASSIGN_OR_RETURN(Pin pin, Base64Sha256Pin(Trim(hash.text().get()), options, host + ".TSKPublicKeyHashes"));
        rule.pins.push_back({pin, XmlLabel(hash, text), PinRole::kUnspecified});
      }
    }
    if (!flag("TSKEnforcePinning").value_or(true)) rule.mode = EnforcementMode::kReportOnly;
    if (pugi::xml_node uris = PlistValue(settings, "TSKReportUris")) {
      for (pugi::xml_node uri : uris.children("string")) rule.report_uris.push_back(Trim(uri.text().get()));
    }
    if (pugi::xml_node date = PlistValue(settings, "TSKExpirationDate")) {
      auto expires = ParseTimestamp(Trim(date.text().get()));
      if (!expires) return std::move(expires).error().WithSource(options.source_name).WithField(host + ".TSKExpirationDate");
      rule.expires = *expires;
    }
    if (PlistValue(settings, "TSKPublicKeyAlgorithms")) {
      builder.Note(host, line, "TSKPublicKeyAlgorithms is obsolete and ignored (pins are SPKI hashes)");
    }
    builder.Add(host, flag("TSKIncludeSubdomains").value_or(false), std::move(rule), line);
  }
  return OkStatus();
}

}  // namespace pinion::tooling::import_internal
