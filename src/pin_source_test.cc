#include "pinion/pin_source.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "pinion/openssl/util.h"
#include "pinion/der.h"
#include "test_pki.h"

namespace pinion {
namespace {

using testing::Cert;
using testing::Issue;
using testing::Key;
using testing::KeyKind;
using testing::TempDir;

std::string Testdata(const std::string& relative) {
  return std::string(PINION_TESTDATA_DIR) + "/" + relative;
}

std::span<const std::uint8_t> Bytes(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string RunShell(const std::string& command) {
  std::string out = testing::RunCommand(command).output;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string CsrPem(const Key& key) {
  openssl::UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key.pkey.get());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("csr.example.test"), -1, -1, 0);
  int base = EVP_PKEY_get_base_id(key.pkey.get());
  const EVP_MD* md = (base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
  EXPECT_GT(X509_REQ_sign(req.get(), key.pkey.get(), md), 0);
  openssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

class EveryKeyKind : public ::testing::TestWithParam<KeyKind> {};

// The SPKI pin of a certificate, its key, its public key and a CSR for it are
// one and the same, and equal what the four-process openssl pipeline prints.
TEST_P(EveryKeyKind, AllSourcesOfOneKeyGiveTheOpenSslPipelinePin) {
  Key key = Key::Generate(GetParam());
  Key ca_key = Key::Generate();
  Cert ca = Issue({.common_name = "CA", .is_ca = true}, ca_key, nullptr, ca_key);
  Cert cert = Issue({.common_name = "leaf", .dns_names = {"leaf.example.test"}}, key, &ca, ca_key);
  TempDir dir;
  auto cert_file = dir.Write("cert.pem", cert.Pem());
  std::string expected = RunShell("openssl x509 -pubkey -noout -in " + cert_file.string() +
                             " | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | "
                             "openssl base64 -A");
  ASSERT_EQ(expected.size(), 44u) << expected;

  for (const std::string& pem : {cert.Pem(), key.PrivatePem(), key.PublicPem(), CsrPem(key)}) {
    auto sources = ReadPinSources(Bytes(pem), "input");
    ASSERT_TRUE(sources.ok()) << sources.error().ToString();
    ASSERT_EQ(sources->size(), 1u);
    EXPECT_EQ(sources->front().SpkiPin().Base64(), expected) << pem.substr(0, 40);
    EXPECT_FALSE(sources->front().key_type.empty());
  }
  // DER inputs too.
  auto der_sources = ReadPinSources(cert.Der(), "cert.der");
  ASSERT_TRUE(der_sources.ok());
  EXPECT_EQ(der_sources->front().kind, PinSourceKind::kCertificate);
  EXPECT_EQ(der_sources->front().SpkiPin().Base64(), expected);
  EXPECT_EQ(*der_sources->front().CertificatePin(), Pin::OfCertificate(cert.Der()));
  auto spki_sources = ReadPinSources(key.SpkiDer(), "key.der");
  ASSERT_TRUE(spki_sources.ok());
  EXPECT_EQ(spki_sources->front().kind, PinSourceKind::kPublicKey);
  EXPECT_EQ(spki_sources->front().SpkiPin().Base64(), expected);
}

INSTANTIATE_TEST_SUITE_P(Keys, EveryKeyKind,
                         ::testing::Values(KeyKind::kEcP256, KeyKind::kEcP384, KeyKind::kEcP521,
                                           KeyKind::kRsa2048, KeyKind::kEd25519, KeyKind::kEd448));

TEST(PinSourceTest, KeyTypesAreNamed) {
  auto name = [](KeyKind kind) {
    Key key = Key::Generate(kind);
    return ReadPinSources(Bytes(key.PublicPem()), "k")->front().key_type;
  };
  EXPECT_EQ(name(KeyKind::kEcP256), "EC P-256");
  EXPECT_EQ(name(KeyKind::kEcP384), "EC P-384");
  EXPECT_EQ(name(KeyKind::kEcP521), "EC P-521");
  EXPECT_EQ(name(KeyKind::kRsa2048), "RSA 2048");
  EXPECT_EQ(name(KeyKind::kEd25519), "Ed25519");
  EXPECT_EQ(name(KeyKind::kEd448), "Ed448");
}

TEST(PinSourceTest, TrustKitPinsFromTheirTable) {
  // SOURCE.md lists each file with the pin TrustKit's own tests assert.
  std::ifstream in(Testdata("trustkit/SOURCE.md"));
  std::stringstream text;
  text << in.rdbuf();
  std::regex row(R"(\| ([A-Za-z0-9_.\-]+\.der)[^|]*\| [^|]+\| ([A-Za-z0-9+/=]{44}))");
  int checked = 0;
  std::string content = text.str();
  for (std::sregex_iterator it(content.begin(), content.end(), row), end; it != end; ++it) {
    auto sources = ReadPinSourcesFromFile(Testdata("trustkit/" + (*it)[1].str()));
    ASSERT_TRUE(sources.ok()) << (*it)[1] << ": " << sources.error().ToString();
    EXPECT_EQ(sources->front().SpkiPin().Base64(), (*it)[2].str()) << (*it)[1];
    ++checked;
  }
  EXPECT_GE(checked, 7);
}

TEST(PinSourceTest, CurlCertificatesKeysAndPinnedFilesAgree) {
  for (std::string name : {"Server-localhost-sv", "Server-localhost.nn-sv", "Server-localhost0h-sv",
                           "Server-localhost-firstSAN-sv", "Server-localhost-lastSAN-sv"}) {
    std::ifstream pinned(Testdata("curl/certs/" + name + ".pubkey-pinned"));
    std::string expected;
    pinned >> expected;
    for (std::string ext : {".crt", ".der", ".key", ".pub.der", ".pub.pem", ".pem"}) {
      auto sources = ReadPinSourcesFromFile(Testdata("curl/certs/" + name + ext));
      ASSERT_TRUE(sources.ok()) << name << ext << ": " << sources.error().ToString();
      for (const auto& source : *sources) {
        EXPECT_EQ(source.SpkiPin().Base64(), expected) << name << ext << " " << source.origin;
      }
    }
  }
}

TEST(PinSourceTest, MixedPemBundleKeepsOrderAndKinds) {
  Key key = Key::Generate();
  Cert cert = Issue({.common_name = "self"}, key, nullptr, key);
  std::string bundle = "junk before\n" + cert.Pem() + "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
                       "-----END EC PARAMETERS-----\n" + key.PrivatePem() + key.PublicPem();
  auto sources = ReadPinSources(Bytes(bundle), "bundle.pem");
  ASSERT_TRUE(sources.ok()) << sources.error().ToString();
  ASSERT_EQ(sources->size(), 3u);
  EXPECT_EQ((*sources)[0].kind, PinSourceKind::kCertificate);
  EXPECT_EQ((*sources)[0].origin, "bundle.pem#1");
  EXPECT_EQ((*sources)[1].kind, PinSourceKind::kPrivateKey);
  EXPECT_EQ((*sources)[1].origin, "bundle.pem#3");
  EXPECT_EQ((*sources)[2].kind, PinSourceKind::kPublicKey);
  EXPECT_NE((*sources)[0].subject.find("CN=self"), std::string::npos);
}

TEST(PinSourceTest, MalformedInputsFailWithSpecificCodes) {
  Key key = Key::Generate();
  Cert cert = Issue({.common_name = "x"}, key, nullptr, key);
  std::vector<std::uint8_t> der = cert.Der();

  EXPECT_EQ(ReadPinSources(Bytes("hello"), "a").error().code(), ErrorCode::kNoPinSource);
  EXPECT_EQ(ReadPinSources({}, "a").error().code(), ErrorCode::kNoPinSource);
  std::vector<std::uint8_t> trailing = der;
  trailing.push_back(0);
  EXPECT_EQ(ReadPinSources(trailing, "a").error().code(), ErrorCode::kNoPinSource);
  std::vector<std::uint8_t> truncated(der.begin(), der.end() - 10);
  EXPECT_EQ(ReadPinSources(truncated, "a").error().code(), ErrorCode::kNoPinSource);

  std::string pem = cert.Pem();
  std::string damaged = pem;
  damaged[40] = '*';
  EXPECT_EQ(ReadPinSources(Bytes(damaged), "a").error().code(), ErrorCode::kCertificateParse);
  std::string no_end = pem.substr(0, pem.find("-----END"));
  EXPECT_EQ(ReadPinSources(Bytes(no_end), "a").error().code(), ErrorCode::kCertificateParse);
  std::string wrong_content = "-----BEGIN CERTIFICATE-----\n" +
                              std::string("AAAA") + "\n-----END CERTIFICATE-----\n";
  auto wrong = ReadPinSources(Bytes(wrong_content), "w.pem");
  EXPECT_EQ(wrong.error().code(), ErrorCode::kCertificateParse);
  EXPECT_EQ(wrong.error().source(), "w.pem");

  std::string params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
  auto only_params = ReadPinSources(Bytes(params), "p.pem");
  EXPECT_EQ(only_params.error().code(), ErrorCode::kNoPinSource);
  EXPECT_NE(only_params.error().message().find("EC PARAMETERS"), std::string::npos);

  openssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PKCS8PrivateKey(bio.get(), key.pkey.get(), EVP_aes_128_cbc(), nullptr, 0, nullptr,
                                const_cast<char*>("secret"));
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  std::string encrypted(data, static_cast<std::size_t>(length));
  EXPECT_EQ(ReadPinSources(Bytes(encrypted), "k").error().code(), ErrorCode::kEncryptedKey);

  std::vector<std::uint8_t> huge(kMaxPinSourceInputBytes + 1, 'A');
  EXPECT_EQ(ReadPinSources(huge, "big").error().code(), ErrorCode::kInputTooLarge);
  EXPECT_EQ(ReadPinSourcesFromFile("/nonexistent/x.pem").error().code(), ErrorCode::kIo);
}

// Found by fuzzing: a BIT STRING with a non-zero unused-bits octet. OpenSSL
// re-encodes it (so other tools pin different bytes); pinion refuses it.
TEST(PinSourceTest, NonCanonicalSpkiInACertificateIsRefused) {
  Key key = Key::Generate(KeyKind::kEd25519);
  Cert cert = Issue({.common_name = "x"}, key, nullptr, key);
  std::vector<std::uint8_t> der = cert.Der();
  auto spki = SpkiOfCertificate(der);
  ASSERT_TRUE(spki.ok());
  std::size_t offset = static_cast<std::size_t>(spki->data() - der.data());
  // SPKI = 30 2a 30 05 06 03 2b 65 70 03 21 00 <key>: the 00 is the unused-bits octet.
  ASSERT_EQ(der[offset + 11], 0x00);
  der[offset + 11] = 0x01;                 // "one unused bit" …
  der[offset + spki->size() - 1] |= 0x01;  // … which is set: OpenSSL's re-encoding clears it

  auto sources = ReadPinSources(der, "odd.der");
  ASSERT_FALSE(sources.ok());
  EXPECT_EQ(sources.error().code(), ErrorCode::kCertificateParse);
  EXPECT_EQ(sources.error().source(), "odd.der");
  openssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio(bio.get(), "CERTIFICATE", "", der.data(), static_cast<long>(der.size()));
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  auto from_pem = ReadPinSources(Bytes(std::string(data, static_cast<std::size_t>(length))), "odd.pem");
  ASSERT_FALSE(from_pem.ok());
  EXPECT_EQ(from_pem.error().code(), ErrorCode::kCertificateParse);
  EXPECT_NE(from_pem.error().message().find("not canonical DER"), std::string::npos);
}

TEST(PinSourceTest, ReadCertificatesRefusesKeysInAChainFile) {
  Key key = Key::Generate();
  Cert cert = Issue({.common_name = "x"}, key, nullptr, key);
  auto certs = ReadCertificates(Bytes(cert.Pem() + cert.Pem()), "chain.pem");
  ASSERT_TRUE(certs.ok());
  EXPECT_EQ(certs->size(), 2u);
  auto mixed = ReadCertificates(Bytes(cert.Pem() + key.PrivatePem()), "chain.pem");
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().code(), ErrorCode::kCertificateParse);
  EXPECT_EQ(mixed.error().field(), "chain.pem#2");
  EXPECT_EQ(ReadCertificates(Bytes(""), "e").error().code(), ErrorCode::kNoPinSource);
}

// Report chains are untrusted text: one exact PEM shape, decoded to the very
// DER the certificate has; anything around or inside the block is refused.
TEST(PinSourceTest, DecodeCertificatePemAcceptsOnlyOneStrictBlock) {
  Key key = Key::Generate();
  Cert cert = Issue({.common_name = "x"}, key, nullptr, key);
  const std::string pem = cert.Pem();
  auto der = DecodeCertificatePem(pem);
  ASSERT_TRUE(der.ok()) << der.error().ToString();
  EXPECT_EQ(*der, cert.Der());
  std::string crlf = std::regex_replace(pem, std::regex("\n"), "\r\n");
  ASSERT_TRUE(DecodeCertificatePem(crlf).ok());
  EXPECT_EQ(*DecodeCertificatePem(crlf), cert.Der());
  std::string unwrapped = pem;  // one long base64 line is fine
  std::size_t body = unwrapped.find('\n') + 1;
  std::size_t end = unwrapped.find("-----END");
  std::string base64 = unwrapped.substr(body, end - body);
  std::erase(base64, '\n');
  ASSERT_TRUE(DecodeCertificatePem("-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----").ok());

  std::string last_line_start = pem.substr(0, pem.rfind('\n', end - 2) + 1);
  const std::pair<std::string, std::string> refused[] = {
      {"text before", "garbage\n" + pem},
      {"text after", pem + "x"},
      {"two blocks", pem + pem},
      {"another label", std::regex_replace(pem, std::regex("CERTIFICATE"), "X509 CRL")},
      {"PEM headers", std::regex_replace(pem, std::regex("-----\n"), "-----\nProc-Type: 4,ENCRYPTED\n\n", std::regex_constants::format_first_only)},
      {"no END line", pem.substr(0, end)},
      {"a space in the body", pem.substr(0, body + 10) + " " + pem.substr(body + 10)},
      {"a lone CR", pem.substr(0, body - 1) + "\r" + pem.substr(body)},
      {"padding inside", pem.substr(0, body + 4) + "====" + pem.substr(body + 4)},
      {"empty body", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"},
      {"not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
  };
  for (const auto& [what, text] : refused) {
    auto decoded = DecodeCertificatePem(text);
    ASSERT_FALSE(decoded.ok()) << what;
    EXPECT_EQ(decoded.error().code(), ErrorCode::kCertificateParse) << what;
  }
  // Stray bits before the padding would give one DER two PEM texts.
  auto stray = DecodeCertificatePem("-----BEGIN CERTIFICATE-----\nAB==\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.error().message().find("non-canonical"), std::string::npos) << stray.error().ToString();
}

// Wycheproof SPKI encodings: whatever is accepted as a public key is pinned
// over exactly its input bytes; BER inputs that OpenSSL would re-encode are refused.
TEST(PinSourceTest, WycheproofSpkiEncodingsNeverPinAReEncoding) {
  std::ifstream in(Testdata("wycheproof/ecdh_secp256r1_spki_openssl.derived.json"));
  auto derived = nlohmann::json::parse(in);
  std::ifstream vectors_in(Testdata("wycheproof/ecdh_secp256r1_test.json"));
  auto vectors = nlohmann::json::parse(vectors_in);
  std::map<int, std::string> public_hex;
  for (const auto& group : vectors["testGroups"]) {
    for (const auto& test : group["tests"]) public_hex[test["tcId"]] = test["public"];
  }
  int accepted = 0, refused = 0, reencoded_refused = 0;
  for (const auto& row : derived["rows"]) {
    std::string hex = public_hex.at(row["tcId"]);
    std::vector<std::uint8_t> der;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) der.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    auto sources = ReadPinSources(der, "spki");
    const auto& openssl = row["openssl_d2i_PUBKEY"];
    bool openssl_would_reencode = openssl["parsed"] == true &&
                                  (openssl["reencoding_identical"] == false || openssl["consumed_all_input"] == false);
    if (sources.ok()) {
      ++accepted;
      EXPECT_EQ(sources->front().SpkiPin().Base64(), row["sha256_of_input_bytes_b64"]) << row["tcId"];
      EXPECT_FALSE(openssl_would_reencode) << row["tcId"];
    } else {
      ++refused;
      if (openssl_would_reencode) ++reencoded_refused;
    }
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 100);
  EXPECT_GE(reencoded_refused, 14);
}

TEST(DerTest, SpkiOfCertificateFindsTheExactBytes) {
  Key key = Key::Generate(KeyKind::kRsa2048);
  Cert cert = Issue({.common_name = "x"}, key, nullptr, key);
  auto der = cert.Der();
  auto spki = SpkiOfCertificate(der);
  ASSERT_TRUE(spki.ok());
  EXPECT_EQ(std::vector<std::uint8_t>(spki->begin(), spki->end()), key.SpkiDer());
  // Every truncation and the trailing byte are rejected, never crash.
  for (std::size_t n = 0; n < der.size(); ++n) {
    EXPECT_FALSE(SpkiOfCertificate(std::span(der).first(n)).ok()) << n;
  }
  der.push_back(0);
  EXPECT_EQ(SpkiOfCertificate(der).error().code(), ErrorCode::kCertificateParse);
  // Non-minimal length encoding of the outer SEQUENCE.
  std::vector<std::uint8_t> non_minimal = {0x30, 0x81, 0x03, 0x30, 0x01, 0x00};
  EXPECT_FALSE(SpkiOfCertificate(non_minimal).ok());
  std::vector<std::uint8_t> indefinite = {0x30, 0x80, 0x00, 0x00};
  EXPECT_FALSE(SpkiOfCertificate(indefinite).ok());
}

}  // namespace
}  // namespace pinion
