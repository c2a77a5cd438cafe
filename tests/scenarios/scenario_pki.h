// ScenarioPki builds the certificates a scenario file describes (its `certs`
// list) with the tests' PKI generator's key and certificate types, adding what
// scenarios need beyond test_pki.h: any issuer graph (cross-signing, shared
// keys), validity relative to now, leaves with no subjectAltName at all, and
// DNS names holding bytes a configuration string cannot (an embedded NUL).
#ifndef PINION_TESTS_SCENARIOS_SCENARIO_PKI_H_
#define PINION_TESTS_SCENARIOS_SCENARIO_PKI_H_

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "test_pki.h"

namespace pinion::scenarios {

// CertRecipe is one entry of a scenario's `certs` list.
struct CertRecipe {
  std::string name;     // how the rest of the scenario refers to it
  std::string issuer;   // name of the issuing certificate; empty = self-signed
  std::string key;      // key name; certificates naming the same key share it
  std::string subject;  // subject CN
  bool ca = false;
  std::vector<std::string> dns;  // SAN dNSName entries (may hold any byte)
  std::vector<std::string> ip;   // SAN iPAddress entries
  std::chrono::seconds valid_from{-std::chrono::hours(24)};
  std::chrono::seconds valid_until{std::chrono::hours(24 * 30)};
};

class ScenarioPki {
 public:
  // Build issues every recipe in order (an issuer must come before what it
  // signs); throws std::runtime_error naming the recipe on a bad reference.
  static ScenarioPki Build(const std::vector<CertRecipe>& recipes);

  bool HasCert(const std::string& name) const { return certs_.count(name) != 0; }
  bool HasKey(const std::string& name) const { return keys_.count(name) != 0; }
  const testing::Cert& cert(const std::string& name) const;
  const testing::Key& key(const std::string& name) const;
  // KeyOf is the key a certificate was issued for.
  const testing::Key& KeyOf(const std::string& cert_name) const;
  // AddKey makes a key no certificate uses (a backup key), if not there yet.
  void AddKey(const std::string& name);

  std::string Pem(const std::vector<std::string>& names) const;
  std::vector<std::vector<std::uint8_t>> Der(const std::vector<std::string>& names) const;

 private:
  std::map<std::string, testing::Key> keys_;
  std::map<std::string, testing::Cert> certs_;
  std::map<std::string, std::string> key_of_;
};

}  // namespace pinion::scenarios

#endif  // PINION_TESTS_SCENARIOS_SCENARIO_PKI_H_
