#include "pinion/host_pattern.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <vector>

namespace pinion {
namespace {

constexpr std::size_t kMaxHostLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

Error HostError(std::string_view host, std::string reason) {
  return Error(ErrorCode::kHostSyntax, "'" + std::string(host) + "': " + reason);
}

std::string CanonicalIp(std::string_view text) {
  std::string copy(text);
  unsigned char buffer[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, copy.c_str(), buffer) == 1 &&
      inet_ntop(AF_INET, buffer, out, sizeof out) != nullptr) {
    return out;
  }
  if (inet_pton(AF_INET6, copy.c_str(), buffer) == 1 &&
      inet_ntop(AF_INET6, buffer, out, sizeof out) != nullptr) {
    return out;
  }
  return {};
}

// EmbeddedIpv4 returns the IPv4 address an IPv6 literal carries in its last
// 32 bits when it is IPv4-mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) or
// IPv4-compatible (::a.b.c.d, deprecated): sockets reach the IPv4 host, so a
// rule for a.b.c.d must not be sidestepped by that spelling.
std::optional<std::string> EmbeddedIpv4(const std::string& canonical_ipv6) {
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, canonical_ipv6.c_str(), bytes) != 1) return std::nullopt;
  bool zero_prefix = std::all_of(bytes, bytes + 10, [](unsigned char b) { return b == 0; });
  bool mapped = zero_prefix && bytes[10] == 0xff && bytes[11] == 0xff;
  bool compatible = zero_prefix && bytes[10] == 0 && bytes[11] == 0 &&
                    (bytes[12] | bytes[13] | bytes[14]) != 0;  // not :: nor ::1
  if (!mapped && !compatible) return std::nullopt;
  char out[INET_ADDRSTRLEN];
  if (inet_ntop(AF_INET, bytes + 12, out, sizeof out) == nullptr) return std::nullopt;
  return std::string(out);
}

Error EmbeddedIpv4Error(std::string_view original, const std::string& ipv4) {
  return HostError(original, "an IPv6 address that embeds an IPv4 address reaches the IPv4 host; write it as " + ipv4);
}

// Checks LDH labels (plus '_', which real service names use) on an ASCII,
// lower-case name.
Status ValidateLabels(std::string_view original, std::string_view name) {
  if (name.empty()) return HostError(original, "empty host name");
  if (name.size() > kMaxHostLength) return HostError(original, "longer than 253 characters");
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(start, end - start);
    if (label.empty()) return HostError(original, "empty label");
    if (label.size() > kMaxLabelLength) return HostError(original, "a label is over 63 characters");
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) {
        return HostError(original, std::string("invalid character '") + c + "'");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return HostError(original, "a label starts or ends with '-'");
    }
    start = end + 1;
  }
  return OkStatus();
}

// The address a WHATWG/inet_aton reader takes `name` for (1 to 4 parts,
// decimal, 0-octal or 0x-hex, the last part filling the remaining bytes), or
// nullopt when it is no address at all. Only used to word the error.
std::optional<std::uint32_t> LenientIpv4(std::string_view name) {
  std::vector<std::uint64_t> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = name.find('.', start);
    std::string_view part = name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty() || part.size() > 12) return std::nullopt;
    int base = 10;
    if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
      base = 16;
      part.remove_prefix(2);
    } else if (part.size() >= 2 && part[0] == '0') {
      base = 8;
      part.remove_prefix(1);
    }
    std::uint64_t value = 0;
    for (char c : part) {
      int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
      if (digit >= base) return std::nullopt;
      value = value * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(digit);
    }
    parts.push_back(value);
    if (parts.size() > 4) return std::nullopt;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  std::uint64_t address = 0;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] > 255) return std::nullopt;
    address |= parts[i] << (8 * (3 - i));
  }
  std::uint64_t last_limit = std::uint64_t{1} << (8 * (5 - parts.size()));
  if (parts.back() >= last_limit) return std::nullopt;
  return static_cast<std::uint32_t>(address | parts.back());
}

Error NumericHostError(std::string_view original, std::string_view name) {
  std::string hint = "write an IPv4 address in the canonical dotted-quad form (four decimal numbers "
                     "0-255 without leading zeros, e.g. 192.0.2.1), or a DNS name whose last label "
                     "is not a number";
  if (auto address = LenientIpv4(name)) {
    hint = "write it in the canonical dotted-quad form: " + std::to_string(*address >> 24) + "." +
           std::to_string((*address >> 16) & 255) + "." + std::to_string((*address >> 8) & 255) + "." +
           std::to_string(*address & 255);
  }
  return HostError(original,
                   "ends in a number, so URL parsers and inet_aton read it as an IPv4 address while DNS "
                   "reads it as a name; " + hint);
}

const psl_ctx_t* PublicSuffixList() {
  // psl_latest picks the newer of libpsl's built-in list and the system's
  // /usr/share/publicsuffix copy; both are read-only after loading.
  static const psl_ctx_t* const kList = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  return kList;
}

}  // namespace

// The WHATWG URL parser ("ends in a number") and inet_aton read a name whose
// last label is a decimal number or 0x-hex as an IPv4 address, while DNS and
// inet_pton read it as a name: '127.1' would escape a rule for 127.0.0.1 in
// one reader and reach 127.0.0.1 in another. Such names are refused outright.
bool HostEndsInNumber(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  std::size_t dot = name.rfind('.');
  std::string_view last = dot == std::string_view::npos ? name : name.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  if (last.size() < 2 || last[0] != '0' || (last[1] != 'x' && last[1] != 'X')) return false;
  return std::all_of(last.begin() + 2, last.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

bool IsIpLiteral(std::string_view normalized_host) {
  return !CanonicalIp(normalized_host).empty();
}

bool IsPublicSuffix(std::string_view normalized_name) {
  const psl_ctx_t* list = PublicSuffixList();
  std::string name(normalized_name);
  // Without any list at all, refuse every wildcard rather than allow "*.com".
  if (list == nullptr) return true;
  return psl_is_public_suffix2(list, name.c_str(), PSL_TYPE_ANY) != 0;
}

Result<std::string> NormalizeHostName(std::string_view host) {
  std::string_view original = host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    std::string ip = CanonicalIp(host.substr(1, host.size() - 2));
    if (ip.empty() || ip.find(':') == std::string::npos) {
      return HostError(original, "brackets hold something that is not an IPv6 address");
    }
    if (auto ipv4 = EmbeddedIpv4(ip)) return EmbeddedIpv4Error(original, *ipv4);
    return ip;
  }
  bool trailing_dot = host.ends_with('.');
  if (trailing_dot) host.remove_suffix(1);
  if (host.empty()) return HostError(original, "empty host name");
  if (host.size() > 4 * kMaxHostLength) return HostError(original, "host name too long");
  if (std::string ip = CanonicalIp(host); !ip.empty()) {
    // An IP literal is taken only as written canonically; "127.0.0.1." is a
    // DNS query to getaddrinfo, not the address.
    if (trailing_dot) {
      return HostError(original, std::string("an IP address takes no trailing dot; write it in the canonical ") +
                                     (ip.find(':') == std::string::npos ? "dotted-quad " : "") + "form: " + ip);
    }
    // IPv6 has one grammar every reader agrees on (RFC 4291), so "::0001" or
    // "0:0::1" can only mean one address: rendered canonically (RFC 5952).
    // IPv4 forms other than the dotted quad are not read alike everywhere.
    if (ip.find(':') == std::string::npos && ip != host) return NumericHostError(original, host);
    if (auto ipv4 = EmbeddedIpv4(ip)) return EmbeddedIpv4Error(original, *ipv4);
    return ip;
  }

  bool ascii = std::all_of(host.begin(), host.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  std::string name;
  if (ascii) {
    name.assign(host);
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
  } else {
    std::string input(host);
    char* output = nullptr;
    int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(input.c_str()),
                            reinterpret_cast<uint8_t**>(&output),
                            IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
      return HostError(original, std::string("not a valid internationalised name: ") +
                                     idn2_strerror(rc));
    }
    name = output;
    idn2_free(output);
  }
  // After IDNA: a U-label may map to digits (full-width "１２７").
  if (HostEndsInNumber(name)) return NumericHostError(original, name);
  PINION_TRY(ValidateLabels(original, name));
  return name;
}

Result<HostPattern> HostPattern::Parse(std::string_view text, bool include_subdomains) {
  HostPatternKind kind = include_subdomains ? HostPatternKind::kSubtree : HostPatternKind::kExact;
  std::string_view rest = text;
  if (rest.starts_with("**.")) {
    kind = HostPatternKind::kSubtree;
    rest.remove_prefix(3);
  } else if (rest.starts_with("*.")) {
    if (include_subdomains) {
      return HostError(text,
                       "'*.' means exactly one more label and cannot be combined with "
                       "include_subdomains; write '**.' + the name (or the name with "
                       "include_subdomains = true) to cover every level");
    }
    kind = HostPatternKind::kWildcard;
    rest.remove_prefix(2);
  }
  if (rest.find('*') != std::string_view::npos) {
    return HostError(text, "a wildcard is only allowed as a leading '*.' or '**.'");
  }
  PINION_ASSIGN_OR_RETURN(std::string base, NormalizeHostName(rest));
  if (IsIpLiteral(base)) {
    if (kind != HostPatternKind::kExact) {
      return HostError(text, "IP addresses match only exactly; drop the wildcard or include_subdomains");
    }
    return HostPattern(kind, std::move(base));
  }
  if (kind != HostPatternKind::kExact && IsPublicSuffix(base)) {
    return Error(ErrorCode::kHostPublicSuffix,
                 "'" + std::string(text) + "' would pin every site under the public suffix '" +
                     base + "'; pin a registrable domain below it instead");
  }
  return HostPattern(kind, std::move(base));
}

bool HostPattern::Matches(std::string_view host) const {
  switch (kind_) {
    case HostPatternKind::kExact:
      return host == base_;
    case HostPatternKind::kWildcard: {
      if (host.size() < base_.size() + 2 || !host.ends_with(base_)) return false;
      std::string_view label = host.substr(0, host.size() - base_.size());
      // label is "x." with x non-empty and free of dots.
      return label.back() == '.' && label.size() >= 2 &&
             label.find('.') == label.size() - 1;
    }
    case HostPatternKind::kSubtree:
      if (host == base_) return true;
      return host.size() > base_.size() + 1 && host.ends_with(base_) &&
             host[host.size() - base_.size() - 1] == '.';
  }
  return false;
}

std::string HostPattern::ToString() const {
  switch (kind_) {
    case HostPatternKind::kExact: return base_;
    case HostPatternKind::kWildcard: return "*." + base_;
    case HostPatternKind::kSubtree: return "**." + base_;
  }
  return base_;
}

}  // namespace pinion
