#include "pinion/tooling/host_port.h"

#include <arpa/inet.h>

#include <vector>

#include "pinion/host_pattern.h"

namespace pinion::tooling {

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

}  // namespace pinion::tooling
