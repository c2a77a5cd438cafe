// okhttp (Kotlin) and okhttp-java: CertificatePinner.Builder code.
#include <algorithm>

#include "export_internal.h"
#include "pinion/host_pattern.h"

namespace pinion::tooling::internal {

namespace {

struct Exported {
  const DomainRule* rule;
  std::vector<const PinEntry*> pins;
};

std::vector<std::string> PinTexts(const std::vector<const PinEntry*>& pins) {
  std::vector<std::string> texts;
  for (const PinEntry* entry : pins) texts.push_back(entry->pin.ToString());
  std::sort(texts.begin(), texts.end());
  return texts;
}

// OkHttp accepts, for a host, the pins of every pattern that matches it, where
// pinion uses only the most specific rule's. Probe the names where two
// patterns can meet (each base, and one label below it) and record every host
// that OkHttp would accept more pins for.
void CombinedPins(const std::vector<Exported>& exported, std::vector<ExportChange>& changes) {
  std::vector<std::string> probes;
  for (const Exported& e : exported) {
    probes.push_back(e.rule->host.base());
    probes.push_back("pinion-probe." + e.rule->host.base());
  }
  for (const Exported& e : exported) {
    std::vector<std::string> own = PinTexts(e.pins);
    std::vector<std::string> others;  // hosts where another pattern adds pins
    for (const std::string& probe : probes) {
      if (!e.rule->host.Matches(probe)) continue;
      // pinion's choice among the exported rules for this name.
      const Exported* chosen = nullptr;
      for (const Exported& candidate : exported) {
        if (!candidate.rule->host.Matches(probe)) continue;
        if (chosen == nullptr || candidate.rule->host.kind() < chosen->rule->host.kind() ||
            (candidate.rule->host.kind() == chosen->rule->host.kind() &&
             candidate.rule->host.base().size() > chosen->rule->host.base().size())) {
          chosen = &candidate;
        }
      }
      if (chosen != &e) continue;
      for (const Exported& other : exported) {
        if (&other == &e || !other.rule->host.Matches(probe)) continue;
        std::vector<std::string> extra = PinTexts(other.pins);
        if (std::includes(own.begin(), own.end(), extra.begin(), extra.end())) continue;
        std::string note = other.rule->host.ToString();
        if (std::find(others.begin(), others.end(), note) == others.end()) others.push_back(note);
      }
    }
    for (const std::string& other : others) {
      Lossy(changes, *e.rule, "OkHttp accepts the pins of every matching pattern, so names this rule covers also "
                              "accept the pins of " + other + " (pinion uses only the most specific rule)");
    }
  }
}

}  // namespace

Result<ExportResult> ExportOkHttp(const Policy& policy, const ExportOptions& options, bool java) {
  ExportResult result;
  Language language = java ? Language::kJava : Language::kKotlin;
  std::vector<Exported> exported;
  for (const DomainRule& rule : policy.rules()) {
    if (rule.mode == EnforcementMode::kReportOnly) {
      Lossy(result.changes, rule, LeftOut("OkHttp") + "CertificatePinner only enforces, and enforcing "
                                  "a report-only rule could lock users out");
      continue;
    }
    std::vector<ExportChange> rule_changes;
    std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "OkHttp", rule_changes);
    if (pins.empty()) {
      Lossy(result.changes, rule, LeftOut("OkHttp") + "no pin OkHttp can express");
      continue;
    }
    result.changes.insert(result.changes.end(), rule_changes.begin(), rule_changes.end());
    NoExpiry(rule, "CertificatePinner", result.changes);
    NoReports(rule, "CertificatePinner", result.changes);
    if (!rule.anchors.use_system()) {
      Lossy(result.changes, rule, "CertificatePinner cannot replace trust anchors; the client's trust manager "
                                  "validates instead of " + rule.anchors.path + " unless you configure it");
    }
    // OkHttp 3.x has no "**.": it reads the pattern as a literal name that
    // matches nothing, so the hosts are silently unpinned (tests/differential).
    if (rule.host.kind() == HostPatternKind::kSubtree) {
      Lossy(result.changes, rule, "OkHttp 3.x does not know \"**.\" patterns and leaves these hosts unpinned "
                                  "(fails open); the pinner means the policy only with OkHttp 4 or later");
    }
    exported.push_back({&rule, std::move(pins)});
  }
  CombinedPins(exported, result.changes);
  std::string adds;
  for (const Exported& e : exported) {
    adds += "    .add(" + Quoted(e.rule->host.ToString(), language);
    for (const PinEntry* entry : e.pins) {
      adds += ",\n        " + Quoted(entry->pin.ToString(), language);
      if (!entry->label.empty()) adds += "  /* " + CommentText(entry->label) + " */";
    }
    adds += ")\n";
  }
  if (adds.empty()) return NothingExpressible("OkHttp", result.changes);
  std::vector<std::string> header = HeaderLines(policy, options, "OkHttp CertificatePinner");
  if (java) {
    result.text = LineComment(header, "// ") + "\nimport okhttp3.CertificatePinner;\n\n"
                  "public final class " + options.java_class + " {\n"
                  "  private " + options.java_class + "() {}\n\n"
                  "  public static final CertificatePinner CERTIFICATE_PINNER = new CertificatePinner.Builder()\n" +
                  adds + "    .build();\n}\n";
  } else {
    result.text = LineComment(header, "// ") + "\nimport okhttp3.CertificatePinner\n\n"
                  "val certificatePinner: CertificatePinner = CertificatePinner.Builder()\n" + adds + "    .build()\n";
  }
  return result;
}

}  // namespace pinion::tooling::internal
