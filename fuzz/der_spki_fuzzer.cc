// Fuzzes the DER walker that finds a certificate's SPKI. Oracle: when both
// OpenSSL and the walker accept the input, the walker's SPKI boundaries agree
// with OpenSSL's own SubjectPublicKeyInfo parser. The walker may refuse what
// lenient OpenSSL accepts (e.g. a primitive-tagged SEQUENCE): that fails
// closed, since an unwalkable chain is never pinned as valid.
// (Byte equality with i2d_X509_PUBKEY is not an oracle: OpenSSL normalises
// some encodings, e.g. BIT STRING unused bits, while keeping the certificate's
// cached bytes — which is why pinion hashes the bytes as carried.)
#include <openssl/x509.h>

#include <span>

#include "fuzz_targets.h"
#include "pinion/der.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto spki = pinion::SpkiOfCertificate(std::span<const std::uint8_t>(data, size));
  if (spki.ok()) FUZZ_CHECK(spki->data() >= data && spki->data() + spki->size() <= data + size);

  const unsigned char* cursor = data;
  X509* certificate = d2i_X509(nullptr, &cursor, static_cast<long>(size));
  if (certificate == nullptr) return 0;
  if (cursor == data + size && spki.ok()) {
    const unsigned char* key_cursor = spki->data();
    X509_PUBKEY* key = d2i_X509_PUBKEY(nullptr, &key_cursor, static_cast<long>(spki->size()));
    FUZZ_CHECK(key != nullptr && key_cursor == spki->data() + spki->size());
    X509_PUBKEY_free(key);
  }
  X509_free(certificate);
  return 0;
}
