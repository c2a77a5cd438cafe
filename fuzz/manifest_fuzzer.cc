// Fuzzes the manifest payload decoder (the input itself, or the payload of a
// DSSE envelope when the input is one). Oracle: a decoded manifest written
// back with ManifestPayloadJson decodes to the same policy, times and kill switch.
#include <string_view>

#include "fuzz_targets.h"
#include "pinion/dynamic/dsse.h"
#include "pinion/dynamic/manifest.h"
#include "pinion/policy_writer.h"

namespace {

void CheckPayload(std::string_view text) {
  auto manifest = pinion::ParseManifestPayload(text, "fuzz");
  if (!manifest) return;
  FUZZ_CHECK(manifest->policy->CheckInvariants());
  auto written = pinion::ManifestPayloadJson(*manifest->policy, manifest->times);
  FUZZ_CHECK(written.ok());
  auto again = pinion::ParseManifestPayload(*written, "fuzz-again");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(pinion::SamePolicy(*again->policy, *manifest->policy));
  FUZZ_CHECK(again->times.issued_at == manifest->times.issued_at);
  FUZZ_CHECK(again->times.expires == manifest->times.expires);
  FUZZ_CHECK(again->kill_switch().has_value() == manifest->kill_switch().has_value());
  if (manifest->kill_switch()) {
    FUZZ_CHECK(again->kill_switch()->mode == manifest->kill_switch()->mode);
    FUZZ_CHECK(again->kill_switch()->until == manifest->kill_switch()->until);
    FUZZ_CHECK(again->kill_switch()->hosts == manifest->kill_switch()->hosts);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckPayload(input);
  if (auto envelope = pinion::ParseDsseEnvelope(input)) {
    CheckPayload(std::string_view(reinterpret_cast<const char*>(envelope->payload.data()), envelope->payload.size()));
  }
  return 0;
}
