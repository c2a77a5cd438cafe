// pinion/certificate_info.h — a readable summary of one DER certificate, for
// explanations, the CLI and reports (not for the handshake path: it parses).
//
//   auto info = pinion::DescribeCertificate(der);
//   std::cout << info->subject << " expires " << info->not_after_text << "\n";
#ifndef PINION_CERTIFICATE_INFO_H_
#define PINION_CERTIFICATE_INFO_H_

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pinion/clock.h"  // FormatUtc, which the certificate dates use
#include "pinion/pin.h"
#include "pinion/result.h"

namespace pinion {

struct CertificateInfo {
  std::string subject;  // RFC 2253
  std::string issuer;   // RFC 2253
  std::chrono::sys_seconds not_before;
  std::chrono::sys_seconds not_after;
  std::string key_type;               // "EC P-256", "RSA 2048" …
  std::vector<std::string> dns_names; // subjectAltName dNSName entries
  bool is_ca = false;
  bool self_signed = false;
  Pin spki_sha256;
  Pin certificate_sha256;
};

// DescribeCertificate parses `der` (kCertificateParse on failure).
Result<CertificateInfo> DescribeCertificate(std::span<const std::uint8_t> der);

}  // namespace pinion

#endif  // PINION_CERTIFICATE_INFO_H_
