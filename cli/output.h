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

#include "failure.h"
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

// ExitCodeFor maps an error category to the documented exit code
// (commands.h, docs/CLI.md), in this one place, so the same kind of mistake
// exits the same way in every command: a pin failure is 1, TLS, validation
// and network failures 3, everything else (usage, unreadable or invalid
// input, storage, signatures) 2. A command overrides it only where the exit
// code says more than the error: CliFailure::WithExitCode (e.g. 4 for an
// output file that could not be written).
int ExitCodeFor(ErrorCategory category);
// ExitCodeFor(code) is ExitCodeFor(CategoryOf(code)).
int ExitCodeFor(ErrorCode code);

// Host and port parsing is shared with the scans (pinion/tooling/host_port.h).
using tooling::FormatHostPort;
using tooling::HostPort;
using tooling::ParseHostPort;
using tooling::ResolveConnectTo;

// LoadTrustStore returns a store holding only the certificates of `ca_file`,
// or the system default store when `ca_file` is empty.
Result<openssl::UniquePtr<X509_STORE>> LoadTrustStore(const std::string& ca_file);


// LoadKeyFiles reads certificates, keys and CSRs from every file.
Result<std::vector<PinSource>> LoadKeyFiles(const std::vector<std::string>& files);

// ParseTarget reads the HOST[:PORT] a command connects to, with the hint each
// mistake gets: a malformed target, a host no policy could name (e.g.
// "127.1"), or a malformed --connect-to.
CliResult<HostPort> ParseTarget(const std::string& target, const std::string& connect_to);

// CertificateJson describes one DER certificate; `index` is its position.
nlohmann::json CertificateJson(const std::vector<std::uint8_t>& der, std::size_t index);
nlohmann::json ChainJson(const std::vector<std::vector<std::uint8_t>>& chain);
nlohmann::json VerdictJson(const Verdict& verdict);
// ErrorJson: {"code", "category", "message", "field", "file", "line",
// "column"} (location fields null when unknown).
nlohmann::json ErrorJson(const Error& error);

// PrintChain writes a human listing of a chain (subject, issuer, validity, key, pins).
void PrintChain(std::string_view title, const std::vector<std::vector<std::uint8_t>>& chain);

}  // namespace pinion::cli

#endif  // PINION_CLI_OUTPUT_H_
