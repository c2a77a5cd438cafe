#include "scenario_pki.h"

#include <openssl/x509v3.h>

#include <stdexcept>

namespace pinion::scenarios {
namespace {

using openssl::UniquePtr;

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("scenario PKI: " + what);
}

// AddSubjectAltName builds the extension from raw values, so a dNSName may
// carry bytes (an embedded NUL) that X509V3_EXT_conf_nid's text form cannot.
void AddSubjectAltName(X509* cert, const CertRecipe& recipe) {
  UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  for (const std::string& dns : recipe.dns) {
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    Check(value != nullptr && ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size())) == 1,
          recipe.name + ": dNSName");
    GENERAL_NAME* name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, GEN_DNS, value);
    sk_GENERAL_NAME_push(names.get(), name);
  }
  for (const std::string& ip : recipe.ip) {
    ASN1_OCTET_STRING* value = a2i_IPADDRESS(ip.c_str());
    Check(value != nullptr, recipe.name + ": bad IP address '" + ip + "'");
    GENERAL_NAME* name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, GEN_IPADD, value);
    sk_GENERAL_NAME_push(names.get(), name);
  }
  Check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1,
        recipe.name + ": subjectAltName");
}

}  // namespace

ScenarioPki ScenarioPki::Build(const std::vector<CertRecipe>& recipes) {
  ScenarioPki pki;
  for (const CertRecipe& recipe : recipes) {
    Check(!pki.HasCert(recipe.name), "certificate '" + recipe.name + "' is defined twice");
    std::string key_name = recipe.key.empty() ? recipe.name : recipe.key;
    pki.AddKey(key_name);
    const testing::Key& subject_key = pki.keys_.at(key_name);
    const testing::Cert* issuer = nullptr;
    const testing::Key* issuer_key = &subject_key;
    if (!recipe.issuer.empty() && recipe.issuer != recipe.name) {
      Check(pki.HasCert(recipe.issuer),
            "certificate '" + recipe.name + "': issuer '" + recipe.issuer + "' must be listed before it");
      issuer = &pki.certs_.at(recipe.issuer);
      issuer_key = &pki.KeyOf(recipe.issuer);
    }
    testing::CertSpec spec{.common_name = recipe.subject.empty() ? recipe.name : recipe.subject,
                           .is_ca = recipe.ca,
                           .not_before_offset = recipe.valid_from,
                           .not_after_offset = recipe.valid_until};
    testing::Cert cert = testing::Issue(spec, subject_key, issuer, *issuer_key);
    if (!recipe.dns.empty() || !recipe.ip.empty()) {
      AddSubjectAltName(cert.x509.get(), recipe);
      int base = EVP_PKEY_get_base_id(issuer_key->pkey.get());
      const EVP_MD* md = (base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
      Check(X509_sign(cert.x509.get(), issuer_key->pkey.get(), md) > 0, recipe.name + ": re-sign");
    }
    pki.certs_.emplace(recipe.name, std::move(cert));
    pki.key_of_[recipe.name] = key_name;
  }
  return pki;
}

const testing::Cert& ScenarioPki::cert(const std::string& name) const {
  auto it = certs_.find(name);
  Check(it != certs_.end(), "no certificate named '" + name + "'");
  return it->second;
}

const testing::Key& ScenarioPki::key(const std::string& name) const {
  auto it = keys_.find(name);
  Check(it != keys_.end(), "no key named '" + name + "'");
  return it->second;
}

const testing::Key& ScenarioPki::KeyOf(const std::string& cert_name) const {
  auto it = key_of_.find(cert_name);
  Check(it != key_of_.end(), "no certificate named '" + cert_name + "'");
  return keys_.at(it->second);
}

void ScenarioPki::AddKey(const std::string& name) {
  if (!HasKey(name)) keys_.emplace(name, testing::Key::Generate());
}

std::string ScenarioPki::Pem(const std::vector<std::string>& names) const {
  std::string out;
  for (const std::string& name : names) out += cert(name).Pem();
  return out;
}

std::vector<std::vector<std::uint8_t>> ScenarioPki::Der(const std::vector<std::string>& names) const {
  std::vector<std::vector<std::uint8_t>> out;
  for (const std::string& name : names) out.push_back(cert(name).Der());
  return out;
}

}  // namespace pinion::scenarios
