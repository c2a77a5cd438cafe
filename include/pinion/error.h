// pinion/error.h — the closed list of everything that can go wrong in pinion.
//
// Every failure the library reports is an `Error`: a stable `ErrorCode` (one
// entry of the table below, with a stable snake_case name), a human message,
// and where the format gives it, the input's name, line, column and field.
//
//   pinion::Error e = ...;
//   std::cerr << e.ToString() << "\n";   // "policy.toml:7:9: domain[0].pins[1].pin: ..."
//   if (e.code() == pinion::ErrorCode::kPinDigestLength) ...
//
// A pin mismatch is not an error: it is a `Verdict` (see verdict.h).
#ifndef PINION_ERROR_H_
#define PINION_ERROR_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace pinion {

// X(enumerator, stable_name, summary). Append only; names are a public contract.
#define PINION_ERROR_CODES(X)                                                        \
  X(kInvalidArgument, "invalid_argument", "an argument is out of range or malformed") \
  X(kIo, "io", "a file could not be read or written")                                \
  X(kInputTooLarge, "input_too_large", "an input exceeds pinion's size bounds")      \
  X(kPinSyntax, "pin_syntax", "a pin is not in a recognised text form")             \
  X(kPinBase64, "pin_base64", "a pin's digest is not valid padded standard base64")  \
  X(kPinHex, "pin_hex", "a hex fingerprint has bad characters or separators")        \
  X(kPinDigestLength, "pin_digest_length", "a digest has the wrong length for its algorithm") \
  X(kPinUnsupportedAlgorithm, "pin_unsupported_algorithm", "a pin names a hash algorithm pinion does not accept") \
  X(kHostSyntax, "host_syntax", "a host name or pattern is malformed")               \
  X(kHostPublicSuffix, "host_public_suffix", "a wildcard or subdomain rule would cover a public suffix") \
  X(kPolicySyntax, "policy_syntax", "a policy file is not valid TOML or JSON")       \
  X(kPolicySchema, "policy_schema", "a policy has an unknown key, a missing key or a wrong type") \
  X(kPolicyDuplicateHost, "policy_duplicate_host", "two policy rules cover the same host pattern") \
  X(kPolicyDate, "policy_date", "a policy date is malformed")                          \
  X(kPolicyAnchors, "policy_anchors", "a policy's anchors bundle is missing, empty or unreadable") \
  X(kCertificateParse, "certificate_parse", "a certificate could not be parsed")      \
  X(kKeyParse, "key_parse", "a key or certificate request could not be parsed")       \
  X(kEncryptedKey, "encrypted_key", "a private key is encrypted")                     \
  X(kNoPinSource, "no_pin_source", "an input holds no certificate, key or request")   \
  X(kChainEmpty, "chain_empty", "a certificate chain has no certificate")             \
  X(kChainTooLong, "chain_too_long", "a certificate chain exceeds the length bound")  \
  X(kTlsSetup, "tls_setup", "a TLS context could not be configured")                  \
  X(kNetwork, "network", "a network connection failed or timed out")                  \
  X(kTlsHandshake, "tls_handshake", "the TLS handshake failed")                       \
  X(kChainValidation, "chain_validation", "the certificate chain failed validation")  \
  X(kHostnameMismatch, "hostname_mismatch", "the certificate does not match the host name") \
  X(kPinValidationFailed, "pin_validation_failed", "the validated chain matched none of the pins") \
  X(kSignatureInvalid, "signature_invalid", "no trusted key signed the envelope")       \
  X(kManifestRollback, "manifest_rollback", "a manifest's version is not above the active policy's") \
  X(kManifestExpired, "manifest_expired", "a manifest's expires time has passed")      \
  X(kManifestNotYetValid, "manifest_not_yet_valid", "a manifest's issued_at is in the future beyond the allowed skew") \
  X(kKillSwitchTooLong, "kill_switch_too_long", "a kill switch's until is further ahead than the allowed maximum") \
  X(kDatabase, "database", "the report database refused or failed an operation")

enum class ErrorCode : std::uint8_t {
#define PINION_X(id, name, summary) id,
  PINION_ERROR_CODES(PINION_X)
#undef PINION_X
};

// ErrorCodeName returns the stable snake_case name of `code` ("pin_base64").
std::string_view ErrorCodeName(ErrorCode code);
// ErrorCodeSummary returns a one-line description of `code`.
std::string_view ErrorCodeSummary(ErrorCode code);
// kErrorCodeCount is the number of codes, for tests that walk them all.
inline constexpr int kErrorCodeCount = 0
#define PINION_X(id, name, summary) +1
    PINION_ERROR_CODES(PINION_X)
#undef PINION_X
    ;

// Error is a failure with a code, a message, and where it happened.
// Messages are for humans and may change; branch on `code()` only.
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& source() const { return source_; }  // file or input name
  const std::string& field() const { return field_; }    // e.g. "domain[2].pins[0].pin"
  std::uint32_t line() const { return line_; }            // 1-based, 0 = unknown
  std::uint32_t column() const { return column_; }        // 1-based, 0 = unknown

  // The builders return a copy with the location set, so call sites stay one expression.
  Error WithSource(std::string source) && { source_ = std::move(source); return std::move(*this); }
  Error WithField(std::string field) && { field_ = std::move(field); return std::move(*this); }
  Error WithPosition(std::uint32_t line, std::uint32_t column) && {
    line_ = line;
    column_ = column;
    return std::move(*this);
  }
  // PrefixField prepends a parent path: "pins[1]" + ".pin" → "domain[0].pins[1].pin".
  Error PrefixField(std::string_view parent) &&;

  // ToString renders "source:line:column: field: message [code_name]".
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string source_;
  std::string field_;
  std::uint32_t line_ = 0;
  std::uint32_t column_ = 0;
};

}  // namespace pinion

#endif  // PINION_ERROR_H_
