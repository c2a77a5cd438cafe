#include "random_policy.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>

namespace pinion::property {
namespace {

using testing::Cert;
using testing::CertSpec;
using testing::Issue;
using testing::Key;
using testing::KeyKind;

// Bases rules are written on: none is a public suffix, every one has names
// below it in the universe.
const std::vector<std::string>& RuleBases() {
  static const std::vector<std::string> bases = {"example.com",     "api.example.com",    "cdn.example.com",
                                                 "example.net",     "v1.api.example.com", "www.example.com"};
  return bases;
}

Chain MakeChain(ChainKind kind, const Cert& leaf, const Key& leaf_key, const Cert& intermediate, const Cert& root) {
  Chain chain{.kind = kind};
  chain.served_pem = leaf.Pem() + intermediate.Pem();
  chain.key_pem = leaf_key.PrivatePem();
  chain.served_der = {leaf.Der(), intermediate.Der()};
  chain.validated_der = {leaf.Der(), intermediate.Der(), root.Der()};
  chain.validated_pem = chain.served_pem + root.Pem();
  return chain;
}

Pki MakePki(KeyKind leaf_kind) {
  Pki pki{.leaf_kind = leaf_kind};
  pki.root_key = Key::Generate();
  pki.intermediate_key = Key::Generate();
  pki.leaf_key = Key::Generate(leaf_kind);
  pki.rotated_key = Key::Generate(leaf_kind);
  pki.backup_key = Key::Generate(leaf_kind);
  pki.canary_key = Key::Generate();
  pki.root = Issue({.common_name = "property Root", .is_ca = true}, pki.root_key, nullptr, pki.root_key);
  pki.intermediate = Issue({.common_name = "property Intermediate", .is_ca = true}, pki.intermediate_key, &pki.root,
                           pki.root_key);
  CertSpec leaf_spec{.common_name = "api.example.com", .dns_names = HostUniverse()};
  pki.leaf = Issue(leaf_spec, pki.leaf_key, &pki.intermediate, pki.intermediate_key);
  pki.rotated_leaf = Issue(leaf_spec, pki.rotated_key, &pki.intermediate, pki.intermediate_key);
  pki.backup_leaf = Issue(leaf_spec, pki.backup_key, &pki.intermediate, pki.intermediate_key);

  pki.rogue_root_key = Key::Generate();
  pki.rogue_intermediate_key = Key::Generate();
  pki.rogue_leaf_key = Key::Generate(leaf_kind);
  pki.rogue_root = Issue({.common_name = "property Rogue Root", .is_ca = true}, pki.rogue_root_key, nullptr,
                         pki.rogue_root_key);
  pki.rogue_intermediate = Issue({.common_name = "property Rogue Intermediate", .is_ca = true},
                                 pki.rogue_intermediate_key, &pki.rogue_root, pki.rogue_root_key);
  pki.rogue_leaf = Issue(leaf_spec, pki.rogue_leaf_key, &pki.rogue_intermediate, pki.rogue_intermediate_key);

  pki.chains.push_back(MakeChain(ChainKind::kGenuine, pki.leaf, pki.leaf_key, pki.intermediate, pki.root));
  pki.chains.push_back(MakeChain(ChainKind::kRotated, pki.rotated_leaf, pki.rotated_key, pki.intermediate, pki.root));
  pki.chains.push_back(MakeChain(ChainKind::kBackup, pki.backup_leaf, pki.backup_key, pki.intermediate, pki.root));
  pki.chains.push_back(
      MakeChain(ChainKind::kRogue, pki.rogue_leaf, pki.rogue_leaf_key, pki.rogue_intermediate, pki.rogue_root));
  return pki;
}

// A pin the generator may choose, with the role that describes its key.
struct CandidatePin {
  Pin pin;
  PinRole natural_role;
  std::string label;
  int weight;
};

std::vector<CandidatePin> CandidatePins(const Pki& pki) {
  auto spki_of = [](const Key& key, HashAlgorithm algorithm) { return Pin::OfSpki(key.SpkiDer(), algorithm); };
  return {
      {pki.leaf_key.SpkiPin(), PinRole::kLeaf, "current leaf key", 6},
      {pki.backup_key.SpkiPin(), PinRole::kLeaf, "backup key, offline", 6},
      {pki.rotated_key.SpkiPin(), PinRole::kLeaf, "next leaf key", 2},
      {pki.intermediate_key.SpkiPin(), PinRole::kCa, "issuing CA", 5},
      {pki.root_key.SpkiPin(), PinRole::kCa, "root CA", 3},
      {pki.canary_key.SpkiPin(), PinRole::kUnspecified, "key nobody holds", 2},
      {spki_of(pki.leaf_key, HashAlgorithm::kSha384), PinRole::kLeaf, "leaf key, sha384", 1},
      {spki_of(pki.intermediate_key, HashAlgorithm::kSha512), PinRole::kCa, "issuing CA, sha512", 1},
      {pki.leaf.CertificatePin(), PinRole::kLeaf, "leaf certificate", 1},
      {pki.intermediate.CertificatePin(), PinRole::kCa, "issuing CA certificate", 1},
  };
}

std::chrono::sys_seconds DaysFromToday(int days) {
  auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return std::chrono::sys_seconds(today + std::chrono::days(days));
}

}  // namespace

const std::vector<std::string>& HostUniverse() {
  static const std::vector<std::string> hosts = {
      "example.com",     "api.example.com",   "www.example.com",    "cdn.example.com",
      "myapi.example.com", "v1.api.example.com", "eu.cdn.example.com", "a.b.cdn.example.com",
      "x.v1.api.example.com", "example.net",   "api.example.net",    "deep.www.example.com"};
  return hosts;
}

const char* ChainKindName(ChainKind kind) {
  switch (kind) {
    case ChainKind::kGenuine: return "genuine";
    case ChainKind::kRotated: return "rotated";
    case ChainKind::kBackup: return "backup";
    case ChainKind::kRogue: return "rogue";
  }
  return "?";
}

ChainMatrix ChainMatrix::Generate() {
  ChainMatrix matrix;
  for (KeyKind kind : {KeyKind::kEcP256, KeyKind::kRsa2048, KeyKind::kEcP384}) matrix.pkis.push_back(MakePki(kind));
  for (const Pki& pki : matrix.pkis) matrix.roots_pem += pki.root.Pem() + pki.rogue_root.Pem();
  return matrix;
}

RandomPolicy GenerateRandomPolicy(std::uint64_t seed, const ChainMatrix& matrix) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };

  RandomPolicy result{.seed = seed, .pki_index = uniform(matrix.pkis.size())};
  const Pki& pki = matrix.pkis[result.pki_index];
  // Half the policies are "plain": what most platforms can express (SPKI SHA-256 pins, two or
  // more per rule, one role per rule, enforced, no expiry, no anchors), so that exports succeed
  // often enough for their consumers to be tested; the other half use every feature.
  result.plain = chance(50);
  std::vector<CandidatePin> candidates = CandidatePins(pki);
  if (result.plain) {
    std::erase_if(candidates, [](const CandidatePin& c) {
      return c.pin.target() != PinTarget::kSpki || c.pin.algorithm() != HashAlgorithm::kSha256;
    });
  }
  int total_weight = 0;
  for (const CandidatePin& c : candidates) total_weight += c.weight;
  auto pick_pin = [&]() -> const CandidatePin& {
    int r = static_cast<int>(rng() % static_cast<std::uint64_t>(total_weight));
    for (const CandidatePin& c : candidates) {
      if (r < c.weight) return c;
      r -= c.weight;
    }
    return candidates.front();
  };

  std::vector<DomainRule> rules;
  std::vector<std::string> patterns;
  std::size_t rule_count = 1 + uniform(kMaxRules);
  for (std::size_t attempt = 0; rules.size() < rule_count && attempt < 20; ++attempt) {
    const std::string& base = RuleBases()[uniform(RuleBases().size())];
    static const char* const kPrefixes[] = {"", "", "*.", "**."};
    std::string pattern = kPrefixes[uniform(4)] + base;
    if (std::find(patterns.begin(), patterns.end(), pattern) != patterns.end()) continue;
    auto host = HostPattern::Parse(pattern, false);
    if (!host) throw std::runtime_error("generator made an invalid pattern " + pattern);
    DomainRule rule{.host = *host};
    std::size_t pin_count = result.plain ? 2 + uniform(kMaxPins - 1) : 1 + uniform(kMaxPins);
    PinRole plain_role = chance(50) ? PinRole::kLeaf : PinRole::kCa;
    for (std::size_t i = 0; rule.pins.size() < pin_count && i < 40; ++i) {
      const CandidatePin& c = pick_pin();
      bool duplicate = std::any_of(rule.pins.begin(), rule.pins.end(), [&](const PinEntry& e) { return e.pin == c.pin; });
      if (duplicate) continue;
      PinRole role = c.natural_role;
      if (result.plain) {
        // The canary stands for a key of either kind; the others keep their own role.
        if (role == PinRole::kUnspecified) role = plain_role;
        if (role != plain_role) continue;
      } else if (chance(40)) {
        role = PinRole::kUnspecified;
      }
      rule.pins.push_back({.pin = c.pin, .label = c.label, .role = role});
    }
    if (rule.pins.empty()) continue;
    patterns.push_back(pattern);
    if (result.plain) {
      rules.push_back(std::move(rule));
      continue;
    }
    if (chance(20)) rule.mode = EnforcementMode::kReportOnly;
    if (chance(rule.mode == EnforcementMode::kReportOnly ? 70 : 25)) {
      rule.report_uris.push_back("http://127.0.0.1:9/pinion-report");
    }
    int expiry = static_cast<int>(uniform(10));
    if (expiry >= 6) rule.expires = DaysFromToday(expiry == 9 ? -30 : 400);
    if (rule.expires && chance(40)) rule.on_expiry = ExpiryAction::kEnforce;
    if (chance(15)) {
      rule.anchors.path = "(inline)";
      rule.anchors.embedded = true;
      rule.anchors.certificates_der = {pki.root.Der()};
    }
    rules.push_back(std::move(rule));
  }
  auto policy = Policy::Create(1000 + seed, std::move(rules));
  if (!policy) throw std::runtime_error("generated policy refused: " + policy.error().ToString());
  result.policy = *policy;
  return result;
}

}  // namespace pinion::property
