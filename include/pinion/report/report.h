// pinion/report/report.h — pin-failure reports: built from verdicts on the client,
// parsed (pinion, RFC 7469 and TrustKit bodies) by the collector.
//
//   if (auto report = pinion::BuildReport(verdict, {.id = "com.example.app", .version = "4.2"}))
//     spool.Add(*report);                      // see report_spool.h
//   std::string body = pinion::ReportToJson(*report);
//
// The JSON carries the RFC 7469 section 3 fields at the top level
// ("date-time", "hostname", "port", "effective-expiration-date",
// "include-subdomains", "noted-hostname", "served-certificate-chain",
// "validated-certificate-chain", "known-pins") so any HPKP report collector
// can read it, and pinion's own fields in a "pinion" object (policy version,
// mode, verdict reason, kill switch, the app's id/version/platform, reports
// dropped before this one and why, every pin in canonical form, and the true
// length and SHA-256 of the served list).
//
// Every report BuildReport makes parses with ParseReport, whatever the server
// sent: the validated chain is bounded by validation (kMaxChainLength), and
// the served list — which a man in the middle controls — is cut to what the
// parser takes (kMaxReportChainLength entries, kMaxReportCertificatePemBytes
// each) and a default collector accepts (kMaxBuiltReportBytes in all), its
// true count and digest kept beside it.
#ifndef PINION_REPORT_H_
#define PINION_REPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/enum_table.h"
#include "pinion/clock.h"
#include "pinion/result.h"
#include "pinion/verdict.h"

namespace pinion {

inline constexpr std::size_t kMaxReportBytes = 256 * 1024;
inline constexpr std::size_t kMaxReportChainLength = 16;
inline constexpr std::size_t kMaxReportPins = 64;
// One certificate's PEM text in a report.
inline constexpr std::size_t kMaxReportCertificatePemBytes = 64 * 1024;
// Distinct reasons in "dropped-reasons" (more are counted under "other"), and
// the length of one reason.
inline constexpr std::size_t kMaxDropReasons = 16;
inline constexpr std::size_t kMaxDropReasonLength = 48;
// Bytes BuildReport leaves free for the drop counts a spool adds later.
inline constexpr std::size_t kReportDropCountReserve = 2048;
// kMaxBuiltReportBytes bounds every body BuildReport makes, drop counts
// included: what `pinion serve` accepts by default (its max_body), so that no
// server can grow a report past what a default collector takes (HTTP 413).
inline constexpr std::size_t kMaxBuiltReportBytes = 64 * 1024;

// AppInfo identifies the reporting program (given by the caller).
struct AppInfo {
  std::string id;        // "com.example.app"
  std::string version;   // "4.2.1"
  std::string platform;  // "linux-x86_64", "android 14" …
};

// ReportFormat says which kind of body a parsed report came from.
enum class ReportFormat : std::uint8_t { kPinion, kHpkp, kTrustKit };
inline constexpr EnumTable<ReportFormat, 3> kReportFormatNames{
    {{{ReportFormat::kPinion, "pinion"}, {ReportFormat::kHpkp, "hpkp"}, {ReportFormat::kTrustKit, "trustkit"}}}};
static_assert(kReportFormatNames.IsComplete());
inline std::string_view ReportFormatName(ReportFormat format) { return kReportFormatNames.Name(format); }

struct FailureReport {
  // RFC 7469 section 3.
  TimePoint date_time;
  std::string hostname;
  std::uint16_t port = 0;
  std::optional<TimePoint> effective_expiration_date;
  bool include_subdomains = false;
  std::string noted_hostname;  // the rule's host pattern
  std::vector<std::string> served_certificate_chain;     // PEM, leaf first
  std::vector<std::string> validated_certificate_chain;  // PEM, leaf first
  std::vector<Pin> known_pins;                            // the rule's pins
  // pinion's own.
  ReportFormat format = ReportFormat::kPinion;
  std::uint64_t policy_version = 0;
  std::string mode;    // "enforce" | "report-only" (TrustKit: from enforce-pin)
  std::string reason;  // VerdictReasonName, or TrustKit's validation result
  std::optional<TimePoint> kill_switch_until;
  AppInfo app;
  std::uint64_t dropped_reports = 0;  // reports the spool had to drop before this one
  // dropped_by_reason splits dropped_reports: "spool-full", "queue-full",
  // "damaged", "rejected-http-400" … (at most kMaxDropReasons, see CountDroppedReports).
  std::map<std::string, std::uint64_t> dropped_by_reason;
  std::vector<Pin> validated_chain_pins;  // SPKI SHA-256 of each validated certificate
  // The number of certificates the server really sent, and ServedChainSha256
  // of all of them (lower-case hex); served_certificate_chain may hold fewer
  // (the first ones). Unknown (nullopt / "") in bodies that do not carry them.
  std::optional<std::uint64_t> served_chain_length;
  std::string served_chain_sha256;

  // served_chain_truncated: the body holds fewer served certificates than were sent.
  bool served_chain_truncated() const {
    return served_chain_length && *served_chain_length > served_certificate_chain.size();
  }

  // Fingerprint identifies "the same failure" for deduplication: host, port,
  // reason, policy version and the validated chain's pins (hex SHA-256).
  std::string Fingerprint() const;
};

// IsReportable: verdicts that produce a report — a mismatch (enforced or
// report-only), an expired rule that failed open, a kill-switch decision.
bool IsReportable(const Verdict& verdict);

// BuildReport makes the report for `verdict`, or nullopt when it is not
// reportable. The result always fits the collector's reader's bounds (collector/reader/report_parse.h), and its JSON is at
// most kMaxBuiltReportBytes with kReportDropCountReserve of them to spare: the validated chain is kept whole
// unless its certificates alone overflow a report (then its first ones, the
// pins of all of them still listed); the served list is cut to the first
// certificates that fit, with served_chain_length and served_chain_sha256
// describing all of them. App fields are cut to ParseReport's lengths.
std::optional<FailureReport> BuildReport(const Verdict& verdict, const AppInfo& app);

// ServedChainSha256 is the lower-case hex SHA-256 over every certificate of
// `certificates_der`, each preceded by its length as 4 bytes big-endian (so
// no two lists share a digest).
std::string ServedChainSha256(const std::vector<std::vector<std::uint8_t>>& certificates_der);

// CountDroppedReports adds `count` under `reason` to `counts`: a reason is cut
// to kMaxDropReasonLength characters of [a-z0-9-] (others become '-'), and a
// new reason beyond kMaxDropReasons - 1 distinct ones is counted as "other".
void CountDroppedReports(std::map<std::string, std::uint64_t>& counts, std::string_view reason, std::uint64_t count);

// ReportToJson writes the pinion body (RFC 7469 fields + "pinion").
std::string ReportToJson(const FailureReport& report);

}  // namespace pinion

#endif  // PINION_REPORT_H_
