// Fuzzes the DSSE envelope parser. Oracle: what parses serializes to an
// envelope that parses to the same value.
#include <string_view>

#include "fuzz_targets.h"
#include "pinion/dynamic/dsse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto envelope = pinion::ParseDsseEnvelope(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!envelope) return 0;
  auto again = pinion::ParseDsseEnvelope(pinion::SerializeDsseEnvelope(*envelope));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->payload_type == envelope->payload_type && again->payload == envelope->payload);
  FUZZ_CHECK(again->signatures.size() == envelope->signatures.size());
  for (std::size_t i = 0; i < envelope->signatures.size(); ++i) {
    FUZZ_CHECK(again->signatures[i].sig == envelope->signatures[i].sig);
    FUZZ_CHECK(again->signatures[i].keyid == envelope->signatures[i].keyid);
  }
  return 0;
}
