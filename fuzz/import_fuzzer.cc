// Fuzzes every importer (the first byte picks the format; for Chromium the
// input is split at the first NUL into the JSON and Chromium's pins file;
// TrustKit input starting with "bplist00" goes through libplist's binary
// reader). Oracle: an imported policy satisfies its invariants and survives a
// write/read round trip, and every change says what it is.
#include <string_view>

#include "fuzz_targets.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_writer.h"
#include "pinion/tooling/import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using pinion::tooling::ImportFormat;
  constexpr ImportFormat kFormats[] = {ImportFormat::kAndroidNsc, ImportFormat::kHpkp, ImportFormat::kTrustKit,
                                       ImportFormat::kOkHttp, ImportFormat::kChromium};
  ImportFormat format = kFormats[data[0] % 5];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  pinion::tooling::ImportOptions options{.host = "fuzz.example.com"};
  if (format == ImportFormat::kChromium) {
    std::size_t nul = text.find('\0');
    if (nul != std::string_view::npos) {
      options.chromium_pins = std::string(text.substr(nul + 1));
      text = text.substr(0, nul);
    }
  }
  auto imported = pinion::tooling::ImportPolicy(text, format, options);
  if (!imported) return 0;
  for (const pinion::tooling::ImportChange& change : imported->changes) {
    FUZZ_CHECK(!change.reason.empty() && !change.ToString().empty());
  }
  const pinion::Policy& policy = *imported->policy;
  FUZZ_CHECK(policy.CheckInvariants());
  auto again = pinion::ParsePolicyToml(pinion::PolicyToToml(policy), "again.toml");
  FUZZ_CHECK(again.ok() && pinion::SamePolicy(policy, **again));
  return 0;
}
