// pinion/host_pattern.h — which host names a policy rule covers.
//
//   auto p = pinion::HostPattern::Parse("*.example.com", /*include_subdomains=*/false);
//   p->Matches("api.example.com");   // true: exactly one more label
//   p->Matches("a.b.example.com");   // false
//
// Forms: "api.example.com" (exact); "*.example.com" (exactly one more label);
// "**.example.com" or include_subdomains=true (the name itself and every name
// below it). Names are compared lower-case, without a trailing dot, with
// internationalised names in A-label (punycode) form. IP literals match only
// exactly. A wildcard or subtree rule whose base is a public suffix ("*.com",
// "**.appspot.com") is refused, using the Public Suffix List shipped with
// libpsl (and the system's newer copy when there is one).
#ifndef PINION_HOST_PATTERN_H_
#define PINION_HOST_PATTERN_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "pinion/result.h"

namespace pinion {

enum class HostPatternKind : std::uint8_t {
  kExact,     // "api.example.com" or an IP literal
  kWildcard,  // "*.example.com": exactly one extra label
  kSubtree,   // "**.example.com" / include_subdomains: the name and all below it
};

// NormalizeHostName lower-cases, drops one trailing dot and brackets around an
// IPv6 literal, converts U-labels to A-labels (IDNA2008 via libidn2), renders
// IPv6 literals canonically (RFC 5952), and validates label syntax.
// kHostSyntax on failure, including for IPv4 written any way but the
// canonical dotted quad ("127.1", "0x7f.0.0.1", "01.2.3.4", "127.0.0.1.") —
// see HostEndsInNumber.
Result<std::string> NormalizeHostName(std::string_view host);

// HostEndsInNumber reports whether the last label of `name` (one trailing dot
// ignored) is all decimal digits or "0x" + hex digits: what the WHATWG URL
// parser and inet_aton read as an IPv4 address and DNS as a name.
// NormalizeHostName refuses such names unless they are a canonical dotted
// quad (kHostSyntax, naming the canonical form: "127.1" → 127.0.0.1), so that
// an IP rule cannot be sidestepped by another spelling; fast paths that skip
// NormalizeHostName must send these names through it.
bool HostEndsInNumber(std::string_view name);

// IsIpLiteral reports whether a normalized host is an IPv4 or IPv6 address.
bool IsIpLiteral(std::string_view normalized_host);

// IsPublicSuffix reports whether a normalized name is a public suffix
// ("com", "co.uk", "appspot.com"), per the Public Suffix List.
bool IsPublicSuffix(std::string_view normalized_name);

class HostPattern {
 public:
  // Parse reads a rule's host field. Errors: kHostSyntax (bad name, '*'
  // anywhere but a leading "*." or "**.", a wildcard on an IP, "*." combined
  // with include_subdomains), kHostPublicSuffix.
  static Result<HostPattern> Parse(std::string_view text, bool include_subdomains);

  HostPatternKind kind() const { return kind_; }
  // base is the normalized name after any "*." / "**." prefix.
  const std::string& base() const { return base_; }
  bool include_subdomains() const { return kind_ == HostPatternKind::kSubtree; }
  // Matches takes an already normalized host name.
  bool Matches(std::string_view normalized_host) const;
  // ToString gives the canonical form: "api.example.com", "*.example.com", "**.example.com".
  std::string ToString() const;

  friend bool operator==(const HostPattern&, const HostPattern&) = default;

 private:
  HostPattern(HostPatternKind kind, std::string base) : kind_(kind), base_(std::move(base)) {}
  HostPatternKind kind_;
  std::string base_;
};

}  // namespace pinion

#endif  // PINION_HOST_PATTERN_H_
