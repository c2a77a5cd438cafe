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

void PrintError(const Error& error, std::string_view hint) {
  std::cerr << "pinion: " << error.ToString() << "\n";
  if (!hint.empty()) std::cerr << "  " << hint << "\n";
}

namespace {

// ParsePort reads a decimal port, 1-65535.
Result<std::uint16_t> ParsePort(std::string_view text, std::string_view whole) {
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || port > 65535) {
      port = -1;
      break;
    }
    port = port * 10 + (c - '0');
  }
  if (text.empty() || port <= 0 || port > 65535) {
    return Error(ErrorCode::kInvalidArgument, "port must be 1-65535 in '" + std::string(whole) + "'");
  }
  return static_cast<std::uint16_t>(port);
}

}  // namespace

Result<HostPort> ParseHostPort(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  bool has_port = false;
  if (text.starts_with('[')) {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Error(ErrorCode::kInvalidArgument, "missing ']' in '" + std::string(text) + "'");
    }
    // The brackets only delimit the address; names, SNI and the resolver take it bare.
    out.host = std::string(text.substr(1, close - 1));
    in6_addr address{};
    if (inet_pton(AF_INET6, out.host.c_str(), &address) != 1) {
      return Error(ErrorCode::kInvalidArgument,
                   "brackets enclose an IPv6 address only, not '" + out.host + "' in '" + std::string(text) + "'");
    }
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        return Error(ErrorCode::kInvalidArgument, "expected ':PORT' after ']' in '" + std::string(text) + "'");
      }
      port_text = text.substr(close + 2);
      has_port = true;
    }
  } else {
    std::size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') == colon) {
      out.host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
      has_port = true;
    } else {
      out.host = std::string(text);  // a bare IPv6 address has several ':'
    }
  }
  if (out.host.empty()) return Error(ErrorCode::kInvalidArgument, "empty host in '" + std::string(text) + "'");
  if (has_port) {
    PINION_ASSIGN_OR_RETURN(out.port, ParsePort(port_text, text));
  }
  return out;
}

std::string FormatHostPort(std::string_view host, std::uint16_t port) {
  bool ipv6 = host.find(':') != std::string_view::npos;
  return (ipv6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

Result<HostPort> ResolveConnectTo(std::string_view text, const HostPort& target) {
  auto bad = [&](std::string why) {
    return Error(ErrorCode::kInvalidArgument, "--connect-to '" + std::string(text) + "': " + why)
        .WithField("--connect-to");
  };
  if (text.empty()) return target;
  // A bare IPv6 literal is an address, never curl's four-part form (curl
  // requires brackets around IPv6 there).
  unsigned char v6[16];
  if (inet_pton(AF_INET6, std::string(text).c_str(), v6) == 1) return HostPort{std::string(text), target.port};

  // Split on ':' outside brackets.
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  bool in_brackets = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '[') in_brackets = true;
    if (text[i] == ']') in_brackets = false;
    if (text[i] == ':' && !in_brackets) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (in_brackets) return bad("missing ']'");
  parts.push_back(text.substr(start));
  auto unbracket = [](std::string_view part) -> std::string_view {
    return part.size() >= 2 && part.front() == '[' && part.back() == ']' ? part.substr(1, part.size() - 2) : part;
  };
  // An address is an IP literal (IPv6 only inside brackets, checked above) or a host name.
  auto valid_address = [](std::string_view address) {
    unsigned char bytes[16];
    if (address.find(':') != std::string_view::npos) {
      return inet_pton(AF_INET6, std::string(address).c_str(), bytes) == 1;
    }
    return NormalizeHostName(address).ok();
  };
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view inner = unbracket(parts[i]);
    if (inner.find_first_of("[]") != std::string_view::npos) return bad("brackets must surround a whole IPv6 address");
    if (inner.size() != parts[i].size() && inner.find(':') == std::string_view::npos) {
      return bad("brackets enclose an IPv6 address only, not '" + std::string(inner) + "'");
    }
    bool is_address = parts.size() <= 2 ? i == 0 : (i == 0 || i == 2);
    if (!is_address && parts[i].find_first_of("[]") != std::string_view::npos) return bad("a port cannot be bracketed");
    if (is_address && !inner.empty() && !valid_address(inner)) {
      return bad("'" + std::string(inner) + "' is not an IP address or host name");
    }
  }

  HostPort dial = target;
  switch (parts.size()) {
    case 1:  // ADDRESS
    case 2:  // ADDRESS:PORT
      dial.host = std::string(unbracket(parts[0]));
      if (dial.host.empty()) return bad("the address is empty");
      if (parts.size() == 2) {
        auto port = ParsePort(parts[1], text);
        if (!port) return bad("the port must be 1-65535");
        dial.port = *port;
      }
      return dial;
    case 4: {  // curl's HOST:PORT:ADDRESS:PORT; an empty part means "any" (or "the same")
      std::string_view for_host = unbracket(parts[0]);
      if (!for_host.empty()) {
        auto wanted = NormalizeHostName(for_host);
        auto actual = NormalizeHostName(target.host);
        if (!wanted) return bad("'" + std::string(for_host) + "' is not a host name");
        if (!actual || *wanted != *actual) {
          return bad("it is for host '" + std::string(for_host) + "', the target is '" + target.host + "'");
        }
      }
      if (!parts[1].empty()) {
        auto port = ParsePort(parts[1], text);
        if (!port) return bad("the first port must be 1-65535 or empty");
        if (*port != target.port) {
          return bad("it is for port " + std::to_string(*port) + ", the target's port is " +
                     std::to_string(target.port));
        }
      }
      std::string_view address = unbracket(parts[2]);
      if (!address.empty()) dial.host = std::string(address);
      if (!parts[3].empty()) {
        auto port = ParsePort(parts[3], text);
        if (!port) return bad("the second port must be 1-65535 or empty");
        dial.port = *port;
      }
      return dial;
    }
    default:
      return bad("expected ADDRESS, ADDRESS:PORT, [IPv6]:PORT or HOST:PORT:ADDRESS:PORT");
  }
}

Result<internal::UniquePtr<X509_STORE>> LoadTrustStore(const std::string& ca_file) {
  internal::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (ca_file.empty()) {
    if (X509_STORE_set_default_paths(store.get()) != 1) {
      return Error(ErrorCode::kTlsSetup, "cannot load the system trust store");
    }
    return store;
  }
  PINION_ASSIGN_OR_RETURN(auto certificates, ReadCertificatesFromFile(ca_file));
  for (const auto& der : certificates) {
    const unsigned char* cursor = der.data();
    internal::UniquePtr<X509> certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
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

std::optional<std::vector<PinSource>> ReadKeyFiles(const std::vector<std::string>& files, std::string_view hint) {
  auto keys = LoadKeyFiles(files);
  if (!keys) {
    PrintError(keys.error(), hint);
    return std::nullopt;
  }
  return std::move(*keys);
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
  return {{"code", ErrorCodeName(error.code())}, {"message", error.message()},
          {"field", or_null(error.field())},     {"file", or_null(error.source())},
          {"line", position(error.line())},      {"column", position(error.column())}};
}

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kPinValidationFailed: return kExitPinFailure;
    case ErrorCode::kTlsSetup:
    case ErrorCode::kNetwork:
    case ErrorCode::kTlsHandshake:
    case ErrorCode::kChainValidation:
    case ErrorCode::kHostnameMismatch: return kExitTlsFailure;
    default: return kExitUsage;
  }
}

int Fail(const Error& error, std::string_view hint, bool json) {
  return Fail(error, hint, json, ExitCodeFor(error.code()));
}

int Fail(const Error& error, std::string_view hint, bool json, int exit_code) {
  return FailWith(error, hint, json, exit_code, nlohmann::json::object());
}

int FailWith(const Error& error, std::string_view hint, bool json, int exit_code, const nlohmann::json& details,
             const nlohmann::json& beside) {
  PrintError(error, json ? std::string_view() : hint);
  if (json) {
    nlohmann::json body = ErrorJson(error);
    body["hint"] = hint.empty() ? nlohmann::json() : nlohmann::json(hint);
    body["exit_code"] = exit_code;
    for (const auto& item : details.items()) body[item.key()] = item.value();
    nlohmann::json answer = beside;
    answer["error"] = body;
    std::cout << answer.dump(2) << "\n";
  }
  return exit_code;
}

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

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + std::string(text) + "' is not a duration like 30d, 12h, 90m or 45s");
  };
  if (text.size() < 2 || text.size() > 12) return bad();
  std::int64_t value = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return bad();
    value = value * 10 + (c - '0');
  }
  switch (text.back()) {
    case 'd': return std::chrono::seconds(value * 86400);
    case 'h': return std::chrono::seconds(value * 3600);
    case 'm': return std::chrono::seconds(value * 60);
    case 's': return std::chrono::seconds(value);
    default: return bad();
  }
}

}  // namespace pinion::cli
