// pinion/openssl/enforcer_options.h — the Enforcer's options, apart from
// enforcer.h so that layers built on it (pinion/curl/…) can take them without
// exposing OpenSSL's headers to their users.
#ifndef PINION_OPENSSL_ENFORCER_OPTIONS_H_
#define PINION_OPENSSL_ENFORCER_OPTIONS_H_

#include <functional>
#include <string_view>

#include "pinion/clock.h"
#include "pinion/evaluate.h"
#include "pinion/verdict.h"

namespace pinion::openssl {

struct EnforcerOptions {
  // Time source for policy expiry. Certificate validity uses OpenSSL's own time.
  const Clock* clock = &SystemClock::Instance();
  // Debugging-proxy override (see evaluate.h). Off when null. Only code can
  // turn it on; every use is logged through `log`.
  const DebugProxyOverride* debug_override = nullptr;
  // Called with every verdict, on the handshake thread: hand it off, don't block.
  std::function<void(const Verdict&)> on_verdict;
  // Loud warnings (debug override used, misuse detected). Default: stderr.
  std::function<void(std::string_view)> log;
};

}  // namespace pinion::openssl

#endif  // PINION_OPENSSL_ENFORCER_OPTIONS_H_
