// Shared pieces of the CLI: terminal styling, host:port parsing, trust
// stores, and the JSON shapes of certificates and verdicts (stable field
// names, snake_case: docs/CLI.md).
#ifndef PINION_CLI_OUTPUT_H_
#define PINION_CLI_OUTPUT_H_

#include <openssl/x509.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pinion/tooling/host_port.h"
#include "pinion/openssl/unique_ptr.h"
#include "pinion/error.h"
#include "pinion/pin_source.h"
#include "pinion/result.h"
#include "pinion/verdict.h"

namespace pinion::cli {

// Style wraps text in an ANSI colour only when stdout is a terminal and
// NO_COLOR is unset.
enum class Tone { kGood, kBad, kWarn, kDim, kBold };
std::string Style(std::string_view text, Tone tone);

// PrintError writes "pinion: <error>" and a hint on what to do next to stderr.
void PrintError(const Error& error, std::string_view hint = {});

// ExitCodeFor maps an error to the documented exit code (commands.h), so the
// same mistake exits the same way in every command: a pin mismatch is 1,
// TLS/validation/network failures 3, everything else (usage, unreadable or
// invalid input files) 2.
int ExitCodeFor(ErrorCode code);

// Fail reports a command's failure and returns its exit code: on stderr as
// PrintError does, or, with `json`, as {"error": ErrorJson + "hint"} on stdout
// (and the one-line message on stderr), so `| jq` never sees plain text.
int Fail(const Error& error, std::string_view hint, bool json);
int Fail(const Error& error, std::string_view hint, bool json, int exit_code);
// FailWith also merges `details` (e.g. {"reason": "connection_refused"}) into
// the JSON error object, and puts `beside` (e.g. a refused export's changes)
// next to it at the top level of the JSON answer.
int FailWith(const Error& error, std::string_view hint, bool json, int exit_code, const nlohmann::json& details,
             const nlohmann::json& beside = nlohmann::json::object());

// Host and port parsing is shared with the scans (pinion/tooling/host_port.h).
using tooling::FormatHostPort;
using tooling::HostPort;
using tooling::ParseHostPort;
using tooling::ResolveConnectTo;

// LoadTrustStore returns a store holding only the certificates of `ca_file`,
// or the system default store when `ca_file` is empty.
Result<openssl::UniquePtr<X509_STORE>> LoadTrustStore(const std::string& ca_file);

// ParseDuration reads "30d", "12h", "90m" or "45s" (kInvalidArgument otherwise).
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// LoadKeyFiles reads certificates, keys and CSRs from every file.
Result<std::vector<PinSource>> LoadKeyFiles(const std::vector<std::string>& files);
// ReadKeyFiles reads certificates, keys and CSRs from every file; on failure
// it prints the error with `hint` and returns nullopt (the caller exits 2).
std::optional<std::vector<PinSource>> ReadKeyFiles(const std::vector<std::string>& files, std::string_view hint);

// CertificateJson describes one DER certificate; `index` is its position.
nlohmann::json CertificateJson(const std::vector<std::uint8_t>& der, std::size_t index);
nlohmann::json ChainJson(const std::vector<std::vector<std::uint8_t>>& chain);
nlohmann::json VerdictJson(const Verdict& verdict);
// ErrorJson: {"code", "message", "field", "file", "line", "column"} (location
// fields null when unknown).
nlohmann::json ErrorJson(const Error& error);

// PrintChain writes a human listing of a chain (subject, issuer, validity, key, pins).
void PrintChain(std::string_view title, const std::vector<std::vector<std::uint8_t>>& chain);

}  // namespace pinion::cli

#endif  // PINION_CLI_OUTPUT_H_
