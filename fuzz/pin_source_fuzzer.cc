// Fuzzes the certificate / key / CSR readers (PEM and DER).
#include <span>

#include "fuzz_targets.h"
#include "pinion/der.h"
#include "pinion/pin_source.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  if (auto sources = pinion::ReadPinSources(bytes, "fuzz")) {
    FUZZ_CHECK(!sources->empty());
    for (const auto& source : *sources) {
      FUZZ_CHECK(!source.spki_der.empty());
      if (source.kind == pinion::PinSourceKind::kCertificate) {
        auto spki = pinion::SpkiOfCertificate(source.certificate_der);
        FUZZ_CHECK(spki.ok());
        FUZZ_CHECK(std::equal(spki->begin(), spki->end(), source.spki_der.begin(), source.spki_der.end()));
      }
    }
  }
  if (auto certificates = pinion::ReadCertificates(bytes, "fuzz")) FUZZ_CHECK(!certificates->empty());
  return 0;
}
