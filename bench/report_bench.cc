// Failure reports on the collector's ingestion path: parsing a realistic
// pinion body (2 served + 3 validated certificates) and writing it back out.
#include <benchmark/benchmark.h>

#include "pinion/evaluate.h"
#include "pinion/policy_loader.h"
#include "pinion/report/report.h"
#include "test_pki.h"
#include "report_parse.h"

namespace {

std::string RealisticBody() {
  static const std::string body = [] {
    auto pki = pinion::testing::TestPki::Create("api.example.com");
    auto policy = pinion::ParsePolicyToml("[policy]\nversion = 7\n[[domain]]\nhost = \"api.example.com\"\n"
                                          "pins = [ { pin = \"" + pki.leaf_key.SpkiPin().ToString() + "\" },\n"
                                          "         { pin = \"" + pki.backup_key.SpkiPin().ToString() + "\" } ]\n",
                                          "bench.toml");
    auto chain = *pinion::VerifiedChain::FromChainValidatedByCaller(
        {pki.rogue_leaf.Der(), pki.rogue_intermediate.Der(), pki.rogue_root.Der()});
    auto verdict = pinion::Evaluate(*policy, "api.example.com", 443, chain, pinion::SystemClock::Instance().Now());
    verdict.served_chain_der = {pki.rogue_leaf.Der(), pki.rogue_intermediate.Der()};
    return pinion::ReportToJson(*pinion::BuildReport(verdict, {.id = "com.example.app", .version = "4.2"}));
  }();
  return body;
}

void BM_ParseReport(benchmark::State& state) {
  std::string body = RealisticBody();
  if (!pinion::ParseReport(body).ok()) state.SkipWithError("the realistic body does not parse");
  for (auto _ : state) benchmark::DoNotOptimize(pinion::ParseReport(body));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseReport);

void BM_ReportToJson(benchmark::State& state) {
  auto report = *pinion::ParseReport(RealisticBody());
  for (auto _ : state) benchmark::DoNotOptimize(pinion::ReportToJson(report));
}
BENCHMARK(BM_ReportToJson);

}  // namespace
