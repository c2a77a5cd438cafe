// Fuzzes every pin text parser. Oracle: whatever parses prints back to a
// canonical form that parses to the same pin.
#include <string_view>

#include "fuzz_targets.h"
#include "pinion/pin.h"
#include "pinion/pin_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto pin = pinion::Pin::Parse(text)) {
    FUZZ_CHECK(pin->ToString() == text);  // only canonical text is accepted
    auto again = pinion::Pin::Parse(pin->ToString());
    FUZZ_CHECK(again.ok() && *again == *pin);
  }
  if (auto pin = pinion::ParseAnyPin(text)) {
    auto again = pinion::Pin::Parse(pin->ToString());
    FUZZ_CHECK(again.ok() && *again == *pin);
  }
  if (auto pins = pinion::ParseCurlPinList(text)) {
    auto formatted = pinion::FormatCurlPinList(*pins);
    FUZZ_CHECK(formatted.ok() && *formatted == text);
  }
  if (auto header = pinion::ParseHpkpHeader(text)) FUZZ_CHECK(!header->pins.empty());
  if (auto pin = pinion::ParseHexFingerprint(text)) {
    FUZZ_CHECK(pin->target() == pinion::PinTarget::kCertificate);
    FUZZ_CHECK(*pinion::ParseHexFingerprint(pin->Hex(':')) == *pin);
  }
  return 0;
}
