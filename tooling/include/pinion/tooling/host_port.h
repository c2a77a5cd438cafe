// pinion/tooling/host_port.h — where to connect: "host[:port]" targets and
// --connect-to overrides, as the CLI, the scans and the TLS client read them.
#ifndef PINION_TOOLING_HOST_PORT_H_
#define PINION_TOOLING_HOST_PORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "pinion/result.h"

namespace pinion::tooling {

struct HostPort {
  std::string host;
  std::uint16_t port = 443;
};
// ParseHostPort reads "host", "host:port", "[v6]", "[v6]:port" or a bare
// IPv6 address; `host` never keeps the brackets (kInvalidArgument otherwise).
Result<HostPort> ParseHostPort(std::string_view text);
// FormatHostPort writes "host:port", with brackets around an IPv6 address.
std::string FormatHostPort(std::string_view host, std::uint16_t port);

// ResolveConnectTo says where to dial for `target` given --connect-to `text`
// (empty: the target itself): "ADDRESS" (target's port), "ADDRESS:PORT",
// "[IPv6]:PORT", a bare IPv6 address, or curl's "HOST:PORT:ADDRESS:PORT"
// whose HOST and PORT must be the target's or empty, and whose empty ADDRESS
// or PORT keep the target's. kInvalidArgument (field "--connect-to") otherwise.
// The target's name still drives SNI, verification and pins.
Result<HostPort> ResolveConnectTo(std::string_view text, const HostPort& target);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_HOST_PORT_H_
