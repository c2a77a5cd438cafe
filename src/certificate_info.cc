#include "pinion/certificate_info.h"

#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>

#include "pinion/openssl/unique_ptr.h"
#include "pinion/openssl/util.h"
#include "pinion/der.h"

namespace pinion {
namespace {

std::chrono::sys_seconds ToSysSeconds(const ASN1_TIME* time) {
  struct tm parts = {};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return {};
  return std::chrono::sys_seconds(std::chrono::seconds(timegm(&parts)));
}

}  // namespace

Result<CertificateInfo> DescribeCertificate(std::span<const std::uint8_t> der) {
  openssl::UniquePtr<X509> certificate = openssl::ParseCertificateDer(der);
  if (!certificate) {
    return Error(ErrorCode::kCertificateParse,
                 "certificate does not parse: " + openssl::LastOpenSslError());
  }
  PINION_ASSIGN_OR_RETURN(std::span<const std::uint8_t> spki, SpkiOfCertificate(der));
  X509* x = certificate.get();
  CertificateInfo info{
      .subject = openssl::NameToString(X509_get_subject_name(x)),
      .issuer = openssl::NameToString(X509_get_issuer_name(x)),
      .not_before = ToSysSeconds(X509_get0_notBefore(x)),
      .not_after = ToSysSeconds(X509_get0_notAfter(x)),
      .key_type = openssl::KeyTypeName(X509_get0_pubkey(x)),
      .dns_names = {},
      .is_ca = X509_check_ca(x) != 0,
      .self_signed = (X509_get_extension_flags(x) & EXFLAG_SS) != 0,
      .spki_sha256 = Pin::OfSpki(spki),
      .certificate_sha256 = Pin::OfCertificate(der),
  };
  openssl::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                static_cast<std::size_t>(ASN1_STRING_length(dns)));
  }
  return info;
}

}  // namespace pinion
