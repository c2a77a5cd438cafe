#include "test_pki.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "pinion/openssl/util.h"

namespace pinion::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + ": " + openssl::LastOpenSslError());
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

void AddExtension(X509* cert, const X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, const_cast<X509*>(issuer), cert, nullptr, nullptr, 0);
  UniquePtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  Check(ext != nullptr, "extension");
  Check(X509_add_ext(cert, ext.get(), -1) == 1, "add extension");
}

}  // namespace

Key Key::Generate(KeyKind kind) {
  EVP_PKEY* pkey = nullptr;
  switch (kind) {
    case KeyKind::kEcP256: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case KeyKind::kEcP384: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case KeyKind::kEcP521: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"); break;
    case KeyKind::kRsa2048: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}); break;
    case KeyKind::kEd25519: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    case KeyKind::kEd448: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"); break;
  }
  Check(pkey != nullptr, "keygen");
  return Key{UniquePtr<EVP_PKEY>(pkey)};
}

std::string Key::PrivatePem() const {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "write key");
  return BioToString(bio.get());
}

std::string Key::PublicPem() const {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PUBKEY(bio.get(), pkey.get()) == 1, "write public key");
  return BioToString(bio.get());
}

std::vector<std::uint8_t> Key::SpkiDer() const { return openssl::PublicKeyDer(pkey.get()); }
Pin Key::SpkiPin() const { return Pin::OfSpki(SpkiDer()); }

std::vector<std::uint8_t> Cert::Der() const { return openssl::CertificateDer(x509.get()); }

std::string Cert::Pem() const {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), x509.get()) == 1, "write certificate");
  return BioToString(bio.get());
}

Pin Cert::SpkiPin() const {
  return Pin::OfSpki(openssl::PublicKeyDer(X509_get0_pubkey(x509.get())));
}
Pin Cert::CertificatePin() const { return Pin::OfCertificate(Der()); }

Cert Issue(const CertSpec& spec, const Key& subject_key, const Cert* issuer, const Key& issuer_key) {
  UniquePtr<X509> cert(X509_new());
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof serial_bytes);
  serial_bytes[0] &= 0x7F;
  UniquePtr<BIGNUM> serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(spec.not_before_offset.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(spec.not_after_offset.count()));
  UniquePtr<X509_NAME> name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("pinion tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509_set_subject_name(cert.get(), name.get());
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer->x509.get()) : name.get());
  Check(X509_set_pubkey(cert.get(), subject_key.pkey.get()) == 1, "set pubkey");

  const X509* issuer_cert = issuer != nullptr ? issuer->x509.get() : cert.get();
  AddExtension(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (spec.is_ca) {
    AddExtension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), issuer_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    AddExtension(cert.get(), issuer_cert, NID_ext_key_usage, "serverAuth");
  }
  std::string san;
  for (const auto& dns : spec.dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + dns;
  for (const auto& ip : spec.ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  if (!san.empty()) AddExtension(cert.get(), issuer_cert, NID_subject_alt_name, san);

  int base = EVP_PKEY_get_base_id(issuer_key.pkey.get());
  const EVP_MD* md = (base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
  Check(X509_sign(cert.get(), issuer_key.pkey.get(), md) > 0, "sign");
  return Cert{std::move(cert)};
}

TestPki TestPki::Create(const std::string& host, KeyKind leaf_kind) {
  TestPki pki;
  pki.root_key = Key::Generate();
  pki.intermediate_key = Key::Generate();
  pki.leaf_key = Key::Generate(leaf_kind);
  pki.backup_key = Key::Generate();
  pki.root = Issue({.common_name = "pinion Test Root", .is_ca = true}, pki.root_key, nullptr, pki.root_key);
  pki.intermediate = Issue({.common_name = "pinion Test Intermediate", .is_ca = true},
                           pki.intermediate_key, &pki.root, pki.root_key);
  pki.leaf = pki.IssueLeaf(host, pki.leaf_key);

  pki.rogue_root_key = Key::Generate();
  pki.rogue_intermediate_key = Key::Generate();
  pki.rogue_leaf_key = Key::Generate();
  pki.rogue_root = Issue({.common_name = "Rogue Root CA", .is_ca = true}, pki.rogue_root_key, nullptr,
                         pki.rogue_root_key);
  pki.rogue_intermediate = Issue({.common_name = "Rogue Intermediate CA", .is_ca = true},
                                 pki.rogue_intermediate_key, &pki.rogue_root, pki.rogue_root_key);
  pki.rogue_leaf = Issue({.common_name = host, .dns_names = {host}}, pki.rogue_leaf_key,
                         &pki.rogue_intermediate, pki.rogue_intermediate_key);
  return pki;
}

Cert TestPki::IssueLeaf(const std::string& host, const Key& key) const {
  CertSpec spec{.common_name = host};
  if (host.find_first_not_of("0123456789.:") == std::string::npos) {
    spec.ip_addresses = {host};
  } else {
    spec.dns_names = {host};
  }
  return Issue(spec, key, &intermediate, intermediate_key);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "pinion-test-XXXXXX").string();
  Check(mkdtemp(pattern.data()) != nullptr, "mkdtemp");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::Write(const std::string& name, const std::string& contents) const {
  std::filesystem::path file = path_ / name;
  std::ofstream(file, std::ios::binary) << contents;
  return file;
}

CommandResult RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[512];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  int status = pipe != nullptr ? pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void WriteServerFiles(const TestPki& pki, const TempDir& dir) {
  dir.Write("chain.pem", pki.LeafChainPem());
  dir.Write("leaf.key", pki.leaf_key.PrivatePem());
  dir.Write("rogue-chain.pem", pki.RogueChainPem());
  dir.Write("rogue.key", pki.rogue_leaf_key.PrivatePem());
  dir.Write("roots.pem", pki.root.Pem() + pki.rogue_root.Pem());
}

std::string PemOf(const std::vector<const Cert*>& certs) {
  std::string out;
  for (const Cert* cert : certs) out += cert->Pem();
  return out;
}

}  // namespace pinion::testing
