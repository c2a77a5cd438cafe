// pinion/error.h — the closed list of everything that can go wrong in pinion.
//
// Every failure the library reports is an `Error`: a stable `ErrorCode` (one
// entry of the table below, with a stable snake_case name), a human message,
// and where the format gives it, the input's name, line, column and field.
//
//   pinion::Error e = ...;
//   std::cerr << e.ToString() << "\n";   // "policy.toml:7:9: domain[0].pins[1].pin: ..."
//   if (e.code() == pinion::ErrorCode::kPinDigestLength) ...
//   if (pinion::CategoryOf(e.code()) == pinion::ErrorCategory::kNetwork) retry();
//
// A pin mismatch is not an error: it is a `Verdict` (see verdict.h).
#ifndef PINION_ERROR_H_
#define PINION_ERROR_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace pinion {

// Every code belongs to one category: what kind of thing went wrong, which is
// what a caller decides on (the CLI's exit code, a retry, an alert). Closed
// like the codes; the names are a public contract too.
//   usage    the caller asked for something malformed or out of range
//   input    an input (policy, pin, host, certificate, key, manifest) is
//            malformed, too large, or breaks a rule checked when it is read
//   crypto   a cryptographic check failed: no trusted key signed an envelope
//   tls      a TLS context, handshake, chain validation or host name check failed
//   network  a connection could not be made, or it failed or timed out
//   storage  a file or the report database could not be read or written
//   pin      a validated chain matched none of the pins: its own outcome
#define PINION_ERROR_CATEGORIES(X) \
  X(kUsage, "usage")               \
  X(kInput, "input")               \
  X(kCrypto, "crypto")             \
  X(kTls, "tls")                   \
  X(kNetwork, "network")           \
  X(kStorage, "storage")           \
  X(kPin, "pin")

enum class ErrorCategory : std::uint8_t {
#define PINION_X(id, name) id,
  PINION_ERROR_CATEGORIES(PINION_X)
#undef PINION_X
};

// X(enumerator, stable_name, category, summary). Append only; names are a
// public contract.
#define PINION_ERROR_CODES(X) \
  X(kInvalidArgument, "invalid_argument", kUsage, "an argument is out of range or malformed") \
  X(kIo, "io", kStorage, "a file could not be read or written") \
  X(kInputTooLarge, "input_too_large", kInput, "an input exceeds pinion's size bounds") \
  X(kPinSyntax, "pin_syntax", kInput, "a pin is not in a recognised text form") \
  X(kPinBase64, "pin_base64", kInput, "a pin's digest is not valid padded standard base64") \
  X(kPinHex, "pin_hex", kInput, "a hex fingerprint has bad characters or separators") \
  X(kPinDigestLength, "pin_digest_length", kInput, "a digest has the wrong length for its algorithm") \
  X(kPinUnsupportedAlgorithm, "pin_unsupported_algorithm", kInput, "a pin names a hash algorithm pinion does not accept") \
  X(kHostSyntax, "host_syntax", kInput, "a host name or pattern is malformed") \
  X(kHostPublicSuffix, "host_public_suffix", kInput, "a wildcard or subdomain rule would cover a public suffix") \
  X(kPolicySyntax, "policy_syntax", kInput, "a policy file is not valid TOML or JSON") \
  X(kPolicySchema, "policy_schema", kInput, "a policy has an unknown key, a missing key or a wrong type") \
  X(kPolicyDuplicateHost, "policy_duplicate_host", kInput, "two policy rules cover the same host pattern") \
  X(kPolicyDate, "policy_date", kInput, "a policy date is malformed") \
  X(kPolicyAnchors, "policy_anchors", kInput, "a policy's anchors bundle is missing, empty or unreadable") \
  X(kCertificateParse, "certificate_parse", kInput, "a certificate could not be parsed") \
  X(kKeyParse, "key_parse", kInput, "a key or certificate request could not be parsed") \
  X(kEncryptedKey, "encrypted_key", kInput, "a private key is encrypted") \
  X(kNoPinSource, "no_pin_source", kInput, "an input holds no certificate, key or request") \
  X(kChainEmpty, "chain_empty", kInput, "a certificate chain has no certificate") \
  X(kChainTooLong, "chain_too_long", kInput, "a certificate chain exceeds the length bound") \
  X(kTlsSetup, "tls_setup", kTls, "a TLS context could not be configured") \
  X(kNetwork, "network", kNetwork, "a network connection failed or timed out") \
  X(kTlsHandshake, "tls_handshake", kTls, "the TLS handshake failed") \
  X(kChainValidation, "chain_validation", kTls, "the certificate chain failed validation") \
  X(kHostnameMismatch, "hostname_mismatch", kTls, "the certificate does not match the host name") \
  X(kPinValidationFailed, "pin_validation_failed", kPin, "the validated chain matched none of the pins") \
  X(kSignatureInvalid, "signature_invalid", kCrypto, "no trusted key signed the envelope") \
  X(kManifestRollback, "manifest_rollback", kInput, "a manifest's version is not above the active policy's") \
  X(kManifestExpired, "manifest_expired", kInput, "a manifest's expires time has passed") \
  X(kManifestNotYetValid, "manifest_not_yet_valid", kInput, "a manifest's issued_at is in the future beyond the allowed skew") \
  X(kKillSwitchTooLong, "kill_switch_too_long", kInput, "a kill switch's until is further ahead than the allowed maximum") \
  X(kDatabase, "database", kStorage, "the report database refused or failed an operation")

enum class ErrorCode : std::uint8_t {
#define PINION_X(id, name, category, summary) id,
  PINION_ERROR_CODES(PINION_X)
#undef PINION_X
};

// ErrorCodeName returns the stable snake_case name of `code` ("pin_base64").
std::string_view ErrorCodeName(ErrorCode code);
// ErrorCodeSummary returns a one-line description of `code`.
std::string_view ErrorCodeSummary(ErrorCode code);
// CategoryOf returns the category `code` belongs to (kPinBase64 → kInput).
ErrorCategory CategoryOf(ErrorCode code);
// ErrorCategoryName returns the stable name of `category` ("input").
std::string_view ErrorCategoryName(ErrorCategory category);
// kErrorCodeCount is the number of codes, for tests that walk them all.
inline constexpr int kErrorCodeCount = 0
#define PINION_X(id, name, category, summary) +1
    PINION_ERROR_CODES(PINION_X)
#undef PINION_X
    ;
// kErrorCategoryCount is the number of categories, for tests that walk them all.
inline constexpr int kErrorCategoryCount = 0
#define PINION_X(id, name) +1
    PINION_ERROR_CATEGORIES(PINION_X)
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
