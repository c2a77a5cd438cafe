// Test PKI generator: keys and certificates made fresh by every test run, so
// no expected value is typed in by hand (STYLE.md rule 13).
//
//   auto pki = pinion::testing::TestPki::Create("api.example.test");
//   pki.leaf.Pem();  pki.root.Der();  pki.leaf_key.SpkiPin();
#ifndef PINION_TESTS_SUPPORT_TEST_PKI_H_
#define PINION_TESTS_SUPPORT_TEST_PKI_H_

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/pin.h"

namespace pinion::testing {

using openssl::UniquePtr;

enum class KeyKind { kEcP256, kEcP384, kEcP521, kRsa2048, kEd25519, kEd448 };

struct Key {
  UniquePtr<EVP_PKEY> pkey;

  static Key Generate(KeyKind kind = KeyKind::kEcP256);
  std::string PrivatePem() const;   // PKCS#8
  std::string PublicPem() const;    // SPKI
  std::vector<std::uint8_t> SpkiDer() const;
  Pin SpkiPin() const;
};

struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  // Validity relative to now (OpenSSL validates handshakes against the real clock).
  std::chrono::seconds not_before_offset = -std::chrono::hours(24);
  std::chrono::seconds not_after_offset = std::chrono::hours(24 * 365);
};

struct Cert {
  UniquePtr<X509> x509;

  std::vector<std::uint8_t> Der() const;
  std::string Pem() const;
  Pin SpkiPin() const;
  Pin CertificatePin() const;
};

// Issue signs `spec` for `subject_key` with `issuer_key`; a null `issuer`
// makes a self-signed certificate.
Cert Issue(const CertSpec& spec, const Key& subject_key, const Cert* issuer, const Key& issuer_key);

// TestPki: root → intermediate → leaf for `host`, plus an unrelated "rogue"
// root → intermediate → leaf for the same host (a CA the client may trust,
// but that the owner never pinned), and an offline backup key.
struct TestPki {
  Key root_key, intermediate_key, leaf_key, backup_key;
  Cert root, intermediate, leaf;
  Key rogue_root_key, rogue_intermediate_key, rogue_leaf_key;
  Cert rogue_root, rogue_intermediate, rogue_leaf;

  static TestPki Create(const std::string& host, KeyKind leaf_kind = KeyKind::kEcP256);

  // LeafChainPem: leaf + intermediate, as a server sends it.
  std::string LeafChainPem() const { return leaf.Pem() + intermediate.Pem(); }
  std::string RogueChainPem() const { return rogue_leaf.Pem() + rogue_intermediate.Pem(); }
  // IssueLeaf makes another leaf for `host` under the legitimate intermediate.
  Cert IssueLeaf(const std::string& host, const Key& key) const;
};

// TempDir is a fresh directory removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path Write(const std::string& name, const std::string& contents) const;

 private:
  std::filesystem::path path_;
};

std::string PemOf(const std::vector<const Cert*>& certs);

// WriteServerFiles puts what loopback server tests need into `dir`:
// chain.pem + leaf.key (the real server), rogue-chain.pem + rogue.key (the
// impostor), and roots.pem with BOTH roots — a client that trusts the rogue
// CA too, so that only the pins tell the two servers apart.
void WriteServerFiles(const TestPki& pki, const TempDir& dir);

// RunCommand runs a shell command and returns its exit code and its output
// (stdout and stderr together).
struct CommandResult {
  int exit_code;
  std::string output;
};
CommandResult RunCommand(const std::string& command);

}  // namespace pinion::testing

#endif  // PINION_TESTS_SUPPORT_TEST_PKI_H_
