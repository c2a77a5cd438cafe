// Fuzzes the policy loader, TOML and JSON. Oracles: a loaded policy satisfies
// its invariants, and writing it out (TOML and JSON) and loading that gives
// the same policy back (lint_disable included).
#include <string_view>

#include "fuzz_targets.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool json : {false, true}) {
    auto policy = json ? pinion::ParsePolicyJson(text, "fuzz.json") : pinion::ParsePolicyToml(text, "fuzz.toml");
    if (!policy) {
      FUZZ_CHECK(!policy.error().message().empty());
      continue;
    }
    FUZZ_CHECK((*policy)->CheckInvariants());
    FUZZ_CHECK((*policy)->version() >= 1);
    auto from_toml = pinion::ParsePolicyToml(pinion::PolicyToToml(**policy), "again.toml");
    FUZZ_CHECK(from_toml.ok() && pinion::SamePolicy(**policy, **from_toml));
    auto from_json = pinion::ParsePolicyJson(pinion::PolicyToJson(**policy), "again.json");
    FUZZ_CHECK(from_json.ok() && pinion::SamePolicy(**policy, **from_json));
    for (const auto& rule : (*policy)->rules()) {
      FUZZ_CHECK(!rule.pins.empty());
      for (const auto& id : rule.lint_disable) FUZZ_CHECK(pinion::IsLintRuleId(id));
      FUZZ_CHECK((*policy)->FindRule(rule.host.base()) != nullptr || rule.host.kind() == pinion::HostPatternKind::kWildcard);
    }
  }
  return 0;
}
