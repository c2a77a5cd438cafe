// The collector's storage on its own: one group-commit batch of realistic
// reports into SQLite (WAL, synchronous=FULL, a real fsync per batch), per
// report. Separates the database's share of ingestion from HTTP and parsing.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "store/report_store.h"
#include "pinion/report/report.h"
#include "test_pki.h"
#include "report_parse.h"

namespace {

std::string RealisticBodyForStore() {
  static const std::string body = [] {
    auto pki = pinion::testing::TestPki::Create("api.example.com");
    pinion::FailureReport report;
    report.date_time = pinion::SystemClock::Instance().Now();
    report.hostname = "api.example.com";
    report.port = 443;
    report.noted_hostname = "api.example.com";
    report.served_certificate_chain = {pki.rogue_leaf.Pem(), pki.rogue_intermediate.Pem()};
    report.validated_certificate_chain = {pki.rogue_leaf.Pem(), pki.rogue_intermediate.Pem(), pki.rogue_root.Pem()};
    report.known_pins = {pki.leaf_key.SpkiPin(), pki.backup_key.SpkiPin()};
    report.validated_chain_pins = {pki.rogue_leaf_key.SpkiPin(), pki.rogue_intermediate_key.SpkiPin(),
                                   pki.rogue_root_key.SpkiPin()};
    report.policy_version = 7;
    report.mode = "enforce";
    report.reason = "mismatch";
    report.app = {"com.example.app", "4.2", "linux"};
    return pinion::ReportToJson(report);
  }();
  return body;
}

void BM_StoreInsertBatch(benchmark::State& state) {
  pinion::testing::TempDir dir;
  auto store = pinion::collector::ReportStore::Open("sqlite:" + (dir.path() / "reports.db").string());
  if (!store.ok()) return state.SkipWithError(store.error().ToString().c_str());
  std::string body = RealisticBodyForStore();
  auto report = *pinion::ParseReport(body);
  std::vector<pinion::collector::IncomingReport> batch(
      static_cast<std::size_t>(state.range(0)),
      {report, "127.0.0.1", pinion::SystemClock::Instance().Now(), body});
  for (auto _ : state) {
    auto ids = (*store)->Insert(batch);
    if (!ids.ok()) return state.SkipWithError(ids.error().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_StoreInsertBatch)->Arg(1)->Arg(8)->Arg(32);

}  // namespace
