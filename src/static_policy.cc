#include "pinion/static_policy.h"

#include <string>

#include "pinion/clock.h"
#include "pinion/pin_source.h"

namespace pinion {
namespace {

Error At(Error error, std::size_t index, const std::string& field) {
  return std::move(error)
      .WithSource("static policy")
      .WithField("domain[" + std::to_string(index) + "]." + field);
}

Result<DomainRule> LoadDomain(const StaticDomain& domain, std::size_t index) {
  auto host = HostPattern::Parse(domain.host, domain.include_subdomains);
  if (!host) return At(std::move(host).error(), index, "host");
  DomainRule rule{.host = std::move(*host)};
  std::string_view mode = domain.mode;
  if (mode == "report-only") {
    rule.mode = EnforcementMode::kReportOnly;
  } else if (mode != "enforce") {
    return At(Error(ErrorCode::kPolicySchema, "mode must be \"enforce\" or \"report-only\""), index, "mode");
  }
  if (*domain.expires != '\0') {
    auto expires = ParseTimestamp(domain.expires);
    if (!expires) return At(std::move(expires).error(), index, "expires");
    rule.expires = *expires;
  }
  std::string_view on_expiry = domain.on_expiry;
  if (on_expiry == "enforce") {
    rule.on_expiry = ExpiryAction::kEnforce;
  } else if (on_expiry != "allow") {
    return At(Error(ErrorCode::kPolicySchema, "on_expiry must be \"allow\" or \"enforce\""), index, "on_expiry");
  }
  for (std::size_t i = 0; i < domain.report_uri_count; ++i) rule.report_uris.emplace_back(domain.report_uris[i]);
  if (*domain.anchors_pem != '\0') {
    std::string_view pem = domain.anchors_pem;
    auto certificates = ReadCertificates({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()},
                                         "static anchors");
    if (!certificates) {
      return At(Error(ErrorCode::kPolicyAnchors, certificates.error().ToString()), index, "anchors");
    }
    rule.anchors.path = "(compiled in)";
    rule.anchors.embedded = true;
    rule.anchors.certificates_der = std::move(*certificates);
  }
  for (std::size_t i = 0; i < domain.pin_count; ++i) {
    const StaticPin& entry = domain.pins[i];
    std::string field = "pins[" + std::to_string(i) + "]";
    auto pin = Pin::Parse(entry.pin);
    if (!pin) return At(std::move(pin).error(), index, field + ".pin");
    PinRole role = PinRole::kUnspecified;
    std::string_view role_text = entry.role;
    if (role_text == "leaf") {
      role = PinRole::kLeaf;
    } else if (role_text == "ca") {
      role = PinRole::kCa;
    } else if (!role_text.empty()) {
      return At(Error(ErrorCode::kPolicySchema, "role must be \"leaf\" or \"ca\""), index, field + ".role");
    }
    rule.pins.push_back(PinEntry{*pin, entry.label, role});
  }
  return rule;
}

}  // namespace

Result<PolicySnapshot> LoadStaticPolicy(const StaticPolicy& policy) {
  if (policy.version < 1) {
    return Error(ErrorCode::kPolicySchema, "version must be a positive integer")
        .WithSource("static policy").WithField("policy.version");
  }
  std::vector<DomainRule> rules;
  for (std::size_t i = 0; i < policy.domain_count; ++i) {
    PINION_ASSIGN_OR_RETURN(DomainRule rule, LoadDomain(policy.domains[i], i));
    rules.push_back(std::move(rule));
  }
  auto snapshot = Policy::Create(policy.version, std::move(rules));
  if (!snapshot) return std::move(snapshot).error().WithSource("static policy");
  return snapshot;
}

}  // namespace pinion
