#include "output.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "pinion/certificate_info.h"
#include "pinion/host_pattern.h"
#include "pinion/pin_source.h"

namespace pinion::cli {

std::string Style(std::string_view text, Tone tone) {
  static const bool kColour = isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr &&
                              std::string_view(std::getenv("TERM") ? std::getenv("TERM") : "") != "dumb";
  if (!kColour) return std::string(text);
  const char* code = "";
  switch (tone) {
    case Tone::kGood: code = "\033[32m"; break;
    case Tone::kBad: code = "\033[1;31m"; break;
    case Tone::kWarn: code = "\033[33m"; break;
    case Tone::kDim: code = "\033[2m"; break;
    case Tone::kBold: code = "\033[1m"; break;
  }
  return std::string(code) + std::string(text) + "\033[0m";
}

Result<openssl::UniquePtr<X509_STORE>> LoadTrustStore(const std::string& ca_file) {
  openssl::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (ca_file.empty()) {
    if (X509_STORE_set_default_paths(store.get()) != 1) {
      return Error(ErrorCode::kTlsSetup, "cannot load the system trust store");
    }
    return store;
  }
  PINION_ASSIGN_OR_RETURN(auto certificates, ReadCertificatesFromFile(ca_file));
  for (const auto& der : certificates) {
    const unsigned char* cursor = der.data();
    openssl::UniquePtr<X509> certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    if (!certificate || X509_STORE_add_cert(store.get(), certificate.get()) != 1) {
      return Error(ErrorCode::kCertificateParse, "cannot add a certificate to the trust store")
          .WithSource(ca_file);
    }
  }
  ERR_clear_error();
  return store;
}

Result<std::vector<PinSource>> LoadKeyFiles(const std::vector<std::string>& files) {
  std::vector<PinSource> keys;
  for (const std::string& file : files) {
    PINION_ASSIGN_OR_RETURN(auto sources, ReadPinSourcesFromFile(file));
    keys.insert(keys.end(), sources.begin(), sources.end());
  }
  return keys;
}

CliResult<HostPort> ParseTarget(const std::string& target, const std::string& connect_to) {
  PINION_ASSIGN_OR_RETURN(HostPort parsed,
                          Hinted(ParseHostPort(target), "Write the target as HOST, HOST:PORT or [IPv6]:PORT."));
  // A host no policy could name (e.g. "127.1") is refused before anything runs.
  if (auto host = NormalizeHostName(parsed.host); !host) {
    return CliFailure(host.error(),
                      "Write the host as a DNS name or a canonical IP address (192.0.2.1, [2001:db8::1]).");
  }
  if (auto dial = ResolveConnectTo(connect_to, parsed); !dial) {
    return CliFailure(dial.error(),
                      "Write --connect-to as ADDRESS, ADDRESS:PORT, [IPv6]:PORT or HOST:PORT:ADDRESS:PORT.");
  }
  return parsed;
}

nlohmann::json CertificateJson(const std::vector<std::uint8_t>& der, std::size_t index) {
  nlohmann::json out = {{"index", index}};
  auto info = DescribeCertificate(der);
  if (!info) {
    out["error"] = info.error().message();
    return out;
  }
  out["subject"] = info->subject;
  out["issuer"] = info->issuer;
  out["not_before"] = FormatUtc(info->not_before);
  out["not_after"] = FormatUtc(info->not_after);
  out["key_type"] = info->key_type;
  out["dns_names"] = info->dns_names;
  out["is_ca"] = info->is_ca;
  out["spki_sha256"] = info->spki_sha256.ToString();
  out["certificate_sha256"] = info->certificate_sha256.Hex(':');
  return out;
}

nlohmann::json ChainJson(const std::vector<std::vector<std::uint8_t>>& chain) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < chain.size(); ++i) out.push_back(CertificateJson(chain[i], i));
  return out;
}

nlohmann::json VerdictJson(const Verdict& verdict) {
  nlohmann::json out = {
      {"decision", DecisionName(verdict.decision)},
      {"reason", VerdictReasonName(verdict.reason)},
      {"host", verdict.host},
      {"port", verdict.port},
      {"policy_version", verdict.policy_version},
      {"resumed_session", verdict.resumed_session},
      {"summary", verdict.Summary()},
      {"explanation", verdict.Explain()},
  };
  out["rule"] = verdict.rule != nullptr ? nlohmann::json(verdict.rule->host.ToString()) : nlohmann::json();
  out["kill_switch_until"] =
      verdict.kill_switch_until ? nlohmann::json(FormatUtc(*verdict.kill_switch_until)) : nlohmann::json();
  if (const PinEntry* pin = verdict.matched_pin()) {
    out["matched_pin"] = {{"pin", pin->pin.ToString()}, {"label", pin->label}};
    out["matched_depth"] = *verdict.matched_chain_index;
  } else {
    out["matched_pin"] = nullptr;
  }
  nlohmann::json chain_pins = nlohmann::json::array();
  for (const CertificatePins& pins : verdict.chain_pins) {
    nlohmann::json item = {{"spki_sha256", pins.spki_sha256.ToString()}};
    nlohmann::json other = nlohmann::json::array();
    for (const Pin& pin : pins.other) other.push_back(pin.ToString());
    item["other"] = other;
    chain_pins.push_back(item);
  }
  out["validated_chain_pins"] = chain_pins;
  nlohmann::json expected = nlohmann::json::array();
  if (verdict.rule != nullptr) {
    for (const PinEntry& entry : verdict.rule->pins) {
      expected.push_back({{"pin", entry.pin.ToString()}, {"label", entry.label}});
    }
  }
  out["expected_pins"] = expected;
  if (!verdict.served_chain_der.empty()) out["served_chain"] = ChainJson(verdict.served_chain_der);
  return out;
}

nlohmann::json ErrorJson(const Error& error) {
  auto or_null = [](const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json(text); };
  auto position = [](std::uint32_t n) { return n == 0 ? nlohmann::json() : nlohmann::json(n); };
  return {{"code", ErrorCodeName(error.code())},
          {"category", ErrorCategoryName(CategoryOf(error.code()))},
          {"message", error.message()},
          {"field", or_null(error.field())},
          {"file", or_null(error.source())},
          {"line", position(error.line())},
          {"column", position(error.column())}};
}

int ExitCodeFor(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kPin: return kExitPinFailure;
    case ErrorCategory::kTls:
    case ErrorCategory::kNetwork: return kExitTlsFailure;
    case ErrorCategory::kUsage:
    case ErrorCategory::kInput:
    case ErrorCategory::kCrypto:
    case ErrorCategory::kStorage: return kExitUsage;
  }
  return kExitUsage;
}

int ExitCodeFor(ErrorCode code) { return ExitCodeFor(CategoryOf(code)); }

void PrintChain(std::string_view title, const std::vector<std::vector<std::uint8_t>>& chain) {
  std::cout << Style(title, Tone::kBold) << " (" << chain.size() << " certificate"
            << (chain.size() == 1 ? "" : "s") << ")\n";
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto info = DescribeCertificate(chain[i]);
    if (!info) {
      std::cout << "  [" << i << "] (unparsable: " << info.error().message() << ")\n";
      continue;
    }
    std::cout << "  [" << i << "] " << info->subject << "\n"
              << "      issuer:   " << info->issuer << "\n"
              << "      validity: " << FormatUtc(info->not_before) << " .. " << FormatUtc(info->not_after) << "\n"
              << "      key:      " << info->key_type << (info->is_ca ? "  (CA)" : "") << "\n"
              << "      spki pin: " << Style(info->spki_sha256.ToString(), Tone::kGood) << "\n"
              << "      sha256 fingerprint: " << Style(info->certificate_sha256.Hex(':'), Tone::kDim) << "\n";
  }
}

}  // namespace pinion::cli
