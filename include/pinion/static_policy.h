// pinion/static_policy.h — a policy compiled into the program (static
// pinning): no file is read at run time. `pinion export --to cpp` writes
// these tables from a policy file; the program loads them once:
//
//   #include "pins.generated.h"       // defines pinion_generated::kPolicy
//   auto policy = pinion::LoadStaticPolicy(pinion_generated::kPolicy);
//
// The tables hold the policy's text values (pins in canonical form, dates as
// in the policy file) so the generated header stays readable and reviewable;
// LoadStaticPolicy validates them exactly as the file loader does.
#ifndef PINION_STATIC_POLICY_H_
#define PINION_STATIC_POLICY_H_

#include <cstddef>
#include <cstdint>

#include "pinion/policy.h"
#include "pinion/result.h"

namespace pinion {

struct StaticPin {
  const char* pin;    // canonical text, "sha256/…"
  const char* label;  // may be ""
  const char* role;   // "", "leaf" or "ca"
};

struct StaticDomain {
  const char* host;            // as in the policy file ("*.example.com" …)
  bool include_subdomains;
  const char* mode;            // "enforce" | "report-only"
  const char* expires;         // "" = none; else YYYY-MM-DD or RFC 3339
  const char* on_expiry;       // "allow" | "enforce"
  const char* const* report_uris;
  std::size_t report_uri_count;
  const char* anchors_pem;     // "" = system store; else the PEM bundle itself
  const StaticPin* pins;
  std::size_t pin_count;
};

struct StaticPolicy {
  std::uint64_t version;
  const StaticDomain* domains;
  std::size_t domain_count;
};

// LoadStaticPolicy builds a snapshot from compiled-in tables, with the same
// checks (and error codes, fields "static.domain[i]…") as the file loader.
Result<PolicySnapshot> LoadStaticPolicy(const StaticPolicy& policy);

}  // namespace pinion

#endif  // PINION_STATIC_POLICY_H_
