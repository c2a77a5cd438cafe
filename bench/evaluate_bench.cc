// Evaluator and DER-walker benchmarks. Anchor for ratios: SHA-256 of a
// 256-byte block measured in the same run (BM_Anchor_Sha256_256B).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pinion/der.h"
#include "pinion/evaluate.h"
#include "pinion/policy.h"
#include "test_pki.h"

namespace {

using pinion::testing::TestPki;

const TestPki& Pki() {
  static const TestPki kPki = TestPki::Create("api.example.test");
  return kPki;
}

// 10,000 rules: 9,000 exact hosts, 500 wildcards, 500 subtrees, plus the one
// for the benchmarked host.
pinion::PolicySnapshot BigPolicy() {
  static const pinion::PolicySnapshot kPolicy = [] {
    std::vector<pinion::DomainRule> rules;
    pinion::Pin other = pinion::Pin::OfSpki(std::vector<std::uint8_t>{1});
    pinion::Pin backup = Pki().backup_key.SpkiPin();
    for (int i = 0; i < 9999; ++i) {
      std::string base = "svc" + std::to_string(i) + ".zone" + std::to_string(i % 97) + ".example.test";
      std::string host = i < 9000 ? base : (i < 9500 ? "*." + base : "**." + base);
      rules.push_back({.host = *pinion::HostPattern::Parse(host, false),
                       .pins = {{other, "a"}, {backup, "backup"}}});
    }
    rules.push_back({.host = *pinion::HostPattern::Parse("api.example.test", false),
                     .pins = {{Pki().leaf_key.SpkiPin(), "leaf"}, {backup, "backup"}}});
    return *pinion::Policy::Create(1, std::move(rules));
  }();
  return kPolicy;
}

pinion::VerifiedChain Chain() {
  return *pinion::VerifiedChain::FromChainValidatedByCaller(
      {Pki().leaf.Der(), Pki().intermediate.Der(), Pki().root.Der()});
}

const pinion::TimePoint kNow = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());

void BM_Anchor_Sha256_256B(benchmark::State& state) {
  std::vector<std::uint8_t> block(256, 0x5A);
  for (auto _ : state) benchmark::DoNotOptimize(pinion::Pin::OfSpki(block));
}
BENCHMARK(BM_Anchor_Sha256_256B);

void BM_Evaluate_10kDomains_CachedPins(benchmark::State& state) {
  auto policy = BigPolicy();
  auto chain = Chain();
  chain.PrecomputePins();
  for (auto _ : state) {
    pinion::Verdict verdict = pinion::Evaluate(policy, "api.example.test", 443, chain, kNow);
    benchmark::DoNotOptimize(verdict);
    if (verdict.reason != pinion::VerdictReason::kMatched) state.SkipWithError("not matched");
  }
}
BENCHMARK(BM_Evaluate_10kDomains_CachedPins);

void BM_Evaluate_10kDomains_Cold(benchmark::State& state) {
  auto policy = BigPolicy();
  auto chain = Chain();  // no PrecomputePins: every evaluation hashes the three SPKIs
  for (auto _ : state) {
    pinion::Verdict verdict = pinion::Evaluate(policy, "api.example.test", 443, chain, kNow);
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(BM_Evaluate_10kDomains_Cold);

void BM_Evaluate_10kDomains_SubtreeRuleCold(benchmark::State& state) {
  auto policy = BigPolicy();
  auto chain = Chain();
  for (auto _ : state) {
    pinion::Verdict verdict = pinion::Evaluate(policy, "a.b.svc9900.zone6.example.test", 443, chain, kNow);
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(BM_Evaluate_10kDomains_SubtreeRuleCold);

void BM_Evaluate_10kDomains_NotPinned(benchmark::State& state) {
  auto policy = BigPolicy();
  auto chain = Chain();
  for (auto _ : state) {
    pinion::Verdict verdict = pinion::Evaluate(policy, "www.unpinned.test", 443, chain, kNow);
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(BM_Evaluate_10kDomains_NotPinned);

// Why pinion walks the DER itself to find the SPKI (STYLE.md: justify an
// exception to "use the library" with a benchmark).
void BM_SpkiOfCertificate_DerWalk(benchmark::State& state) {
  auto der = Pki().leaf.Der();
  for (auto _ : state) benchmark::DoNotOptimize(pinion::SpkiOfCertificate(der));
}
BENCHMARK(BM_SpkiOfCertificate_DerWalk);

void BM_SpkiOfCertificate_OpenSslParseAndReencode(benchmark::State& state) {
  auto der = Pki().leaf.Der();
  for (auto _ : state) {
    const unsigned char* cursor = der.data();
    X509* certificate = d2i_X509(nullptr, &cursor, static_cast<long>(der.size()));
    unsigned char* spki = nullptr;
    int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &spki);
    benchmark::DoNotOptimize(length);
    OPENSSL_free(spki);
    X509_free(certificate);
  }
}
BENCHMARK(BM_SpkiOfCertificate_OpenSslParseAndReencode);

}  // namespace
