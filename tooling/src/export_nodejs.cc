// nodejs: a CommonJS module that pins for tls.connect and https. The policy
// is data (RULES, ANCHORS); the checking code is fixed text, kept in
// nodejs_module.js.inc beside this file so that it reads as JavaScript.
//
// Nothing of the policy is lost: every pin kind (SPKI or certificate,
// SHA-256/384/512), the three host forms with pinion's precedence, report-only,
// expires + on_expiry, per-rule anchors (embedded as PEM, used as `ca`) and
// report_uri (reports in pinion's body format) have a JavaScript equivalent.
#include "export_internal.h"
#include "pinion/certificate_info.h"
#include "pinion/host_pattern.h"
#include "pinion/pin_source.h"

namespace pinion::tooling::internal {
namespace {

// The fixed part of the module, as a raw string literal.
constexpr char kModuleCode[] =
#include "nodejs_module.js.inc"
    ;

std::string_view KindName(HostPatternKind kind) {
  switch (kind) {
    case HostPatternKind::kExact: return "exact";
    case HostPatternKind::kWildcard: return "wildcard";
    case HostPatternKind::kSubtree: return "subtree";
  }
  return "exact";
}

std::string JsString(std::string_view text) { return Quoted(text, Language::kJavaScript); }

}  // namespace

Result<ExportResult> ExportNodeJs(const Policy& policy, const ExportOptions& options) {
  if (policy.rules().empty()) {
    return Error(ErrorCode::kInvalidArgument, "no domain of the policy can be expressed for Node.js");
  }
  ExportResult result;
  std::string anchors;
  std::size_t anchor_count = 0;
  std::string rules;
  for (const DomainRule& rule : policy.rules()) {
    std::string anchor_index = "null";
    if (!rule.anchors.use_system()) {
      anchor_index = std::to_string(anchor_count++);
      anchors += "  [  // " + CommentText(rule.anchors.path) + "\n";
      for (const auto& der : rule.anchors.certificates_der) {
        anchors += "    " + JsString(CertificatesToPem({der})) + ",\n";
      }
      anchors += "  ],\n";
    }
    std::string uris;
    for (const std::string& uri : rule.report_uris) uris += (uris.empty() ? "" : ", ") + JsString(uri);
    rules += "  { pattern: " + JsString(rule.host.ToString()) + ", kind: '" + std::string(KindName(rule.host.kind())) +
             "', base: " + JsString(rule.host.base()) + ",\n    mode: '" + std::string(EnforcementModeName(rule.mode)) +
             "', expires: " +
             (rule.expires ? std::to_string(rule.expires->time_since_epoch().count()) + "000" : std::string("null")) +
             ", onExpiry: '" + std::string(ExpiryActionName(rule.on_expiry)) + "', anchors: " + anchor_index +
             ",\n    reportUris: [" + uris + "],\n    pins: [\n";
    for (const PinEntry& entry : rule.pins) {
      rules += "      " + JsString(entry.pin.ToString()) + "," +
               (entry.label.empty() ? "" : "  // " + CommentText(entry.label)) + "\n";
    }
    rules += "    ] },\n";
  }
  result.text = LineComment(HeaderLines(policy, options,
                                        "Node.js: new https.Agent-compatible createAgent(), agentOptions(host) for "
                                        "https.Agent / tls.connect, or checkServerIdentity (see docs/EXPORT.md)"),
                            "// ") +
                "'use strict';\n\nconst POLICY_VERSION = " + std::to_string(policy.version()) +
                ";\n\n// Trust anchors of the rules that replace the default CAs (PEM), by index.\nconst ANCHORS = [\n" +
                anchors + "];\n\n// One entry per rule; findRule applies pinion's precedence.\nconst RULES = [\n" + rules +
                "];\n" + kModuleCode;
  return result;
}

}  // namespace pinion::tooling::internal
