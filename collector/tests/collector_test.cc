// The collector against both of its real stores — SQLite in a temporary
// directory and PostgreSQL in a throwaway cluster on 127.0.0.1 — with the
// same suite: migrations, storage and queries, and the HTTP service driven
// over loopback by a real HTTP client.
#include "collector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "pinion/evaluate.h"
#include "pinion/policy_loader.h"
#include "postgres_cluster.h"
#include "report_parse.h"
#include "store/body_codec.h"
#include "store/ingest_queue.h"
#include "store/migrations.h"
#include "store/report_store.h"
#include "test_pki.h"

namespace pinion::collector {
namespace {

using Json = nlohmann::json;
using pinion::testing::TempDir;
using pinion::testing::TestPki;

const TimePoint kNow = *ParseTimestamp("2026-11-21T12:00:00Z");


class CollectorTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("api.example.test")); }
  static void TearDownTestSuite() { delete pki_; }

  // A fresh, empty database of the store under test.
  std::string Database() {
    if (GetParam() == "sqlite") return "sqlite:" + (dir_.path() / ("reports-" + std::to_string(++databases_) + ".db")).string();
    return testing::SharedPostgresCluster().FreshDatabase();
  }

  // A rogue-chain failure report for `host`:`port` at `at`.
  static FailureReport Report(const std::string& host, std::uint16_t port = 443, TimePoint at = kNow,
                              const std::string& mode_line = "") {
    auto policy = ParsePolicyToml("[policy]\nversion = 4\n[[domain]]\nhost = \"" + host + "\"\n" + mode_line +
                                      "pins = [ { pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" },\n"
                                      "         { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" } ]\n",
                                  "t.toml");
    auto chain = *VerifiedChain::FromChainValidatedByCaller(
        {pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der(), pki_->rogue_root.Der()});
    auto report = BuildReport(Evaluate(*policy, host, port, chain, at), {.id = "com.example.app", .version = "4.2"});
    EXPECT_TRUE(report.has_value());
    return *report;
  }
  static std::string Body(const std::string& host, std::uint16_t port = 443) {
    return ReportToJson(Report(host, port));
  }

  static TestPki* pki_;
  TempDir dir_;
  int databases_ = 0;
};
TestPki* CollectorTest::pki_ = nullptr;

// ---- storage ----------------------------------------------------------------

TEST_P(CollectorTest, MigrationsAreVersionedAndApplyOnce) {
  std::string database = Database();
  {
    auto store = ReportStore::Open(database);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    EXPECT_EQ((*store)->schema_version(), LatestSchemaVersion());
    ASSERT_TRUE((*store)->Insert({{Report("a.example.test"), "127.0.0.1", kNow}}).ok());
  }
  auto reopened = ReportStore::Open(database);  // nothing to apply, nothing lost
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->Count(), 1);

  auto session = GetParam() == "sqlite" ? OpenSqlite(database.substr(7)) : OpenPostgres(database);
  ASSERT_TRUE(session.ok());
  auto ledger = (*session)->Query("SELECT version, description FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), Migrations().size());
  EXPECT_EQ((*ledger)[0][1], "reports");
  // A database migrated by a newer collector is refused, not written.
  ASSERT_TRUE((*session)->Query("INSERT INTO schema_migrations (version, description, applied_at) VALUES (99, 'future', 0)").ok());
  auto newer = ReportStore::Open(database);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.error().code(), ErrorCode::kDatabase);
  EXPECT_NE(newer.error().message().find("newer"), std::string::npos);
}

// A database written by schema 2 keeps its unexpected-pin counts when
// migration 3 replaces per-report pin rows with per-minute counts, and its
// bodies when migration 4 starts compressing them.
TEST_P(CollectorTest, OlderDatabasesKeepTheirPinCountsAndBodies) {
  std::string database = Database();
  {
    auto session = GetParam() == "sqlite" ? OpenSqlite(database.substr(7)) : OpenPostgres(database);
    ASSERT_TRUE(session.ok()) << session.error().ToString();
    SqlSession& old = **session;
    ASSERT_TRUE(old.Script("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                           "applied_at BIGINT NOT NULL)").ok());
    for (const Migration& migration : Migrations().first(2)) {
      ASSERT_TRUE(old.Script(MigrationSql(migration, old.dialect())).ok()) << migration.description;
      ASSERT_TRUE(old.Query("INSERT INTO schema_migrations VALUES ($1, $2, 0)",
                            {std::int64_t{migration.version}, std::string(migration.description)}).ok());
    }
    const std::int64_t at = std::chrono::duration_cast<std::chrono::seconds>(kNow.time_since_epoch()).count();
    for (std::int64_t id = 1; id <= 3; ++id) {
      auto row = old.Query(
          "INSERT INTO reports (received_at, date_time, hostname, port, noted_hostname, format, mode, reason, "
          "policy_version, app_id, app_version, app_platform, dropped_reports, client, known_pins, chain_pins, body) "
          "VALUES ($1, $1, 'a.example.test', 443, 'a.example.test', 'pinion', 'enforce', 'mismatch', 1, '', '', '', "
          "0, 'c', '', 'sha256/x', '{\"old\":true}') RETURNING id",
          {at + id});
      ASSERT_TRUE(row.ok()) << row.error().ToString();
      std::string rogue = id < 3 ? "sha256/rogue" : "sha256/other";
      ASSERT_TRUE(old.Query("INSERT INTO report_pins (report_id, position, pin) VALUES ($1, 0, $2)",
                            {std::stoll(row->at(0).at(0)), rogue}).ok());
    }
  }
  auto store = ReportStore::Open(database);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_EQ((*store)->schema_version(), LatestSchemaVersion());
  auto old_body = (*store)->Body(1);
  ASSERT_TRUE(old_body.ok() && old_body->has_value());
  EXPECT_EQ(**old_body, "{\"old\":true}");
  // Migration 5 counted the old rows (text bodies) for the storage quota.
  auto usage = (*store)->Usage();
  ASSERT_TRUE(usage.ok()) << usage.error().ToString();
  EXPECT_EQ(usage->reports, 3);
  EXPECT_EQ(usage->bytes, 3 * (static_cast<std::int64_t>(old_body->value().size()) + kReportRowOverheadBytes));
  ASSERT_TRUE((*store)->Insert({{Report("a.example.test"), "c", kNow + std::chrono::seconds(30)}}).ok());
  auto summary = (*store)->Summarize({.since = kNow, .until = kNow + std::chrono::hours(1)});
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  EXPECT_EQ(summary->total, 4);
  ASSERT_EQ(summary->top_unexpected_pins.size(), 5u);  // 2 migrated + the new report's 3 rogue chain pins
  EXPECT_EQ(summary->top_unexpected_pins[0].pin, "sha256/rogue");
  EXPECT_EQ(summary->top_unexpected_pins[0].count, 2);
  std::int64_t other = 0;
  for (const auto& pin : summary->top_unexpected_pins) other += pin.pin == "sha256/other" ? pin.count : 0;
  EXPECT_EQ(other, 1);
  Status invariants = (*store)->CheckInvariants();
  EXPECT_TRUE(invariants.ok()) << invariants.error().ToString();
  // Retention removes old-format rows with the same accounting.
  auto pruned = (*store)->Prune(kNow + std::chrono::seconds(10));
  ASSERT_TRUE(pruned.ok()) << pruned.error().ToString();
  EXPECT_EQ(pruned->reports, 3);
  EXPECT_EQ(*(*store)->Count(), 1);
  invariants = (*store)->CheckInvariants();
  EXPECT_TRUE(invariants.ok()) << invariants.error().ToString();
}

TEST_P(CollectorTest, FiltersAndPagesReports) {
  auto store = *ReportStore::Open(Database());
  std::vector<IncomingReport> batch;
  for (int i = 0; i < 7; ++i) {
    batch.push_back({Report("a.example.test", static_cast<std::uint16_t>(1000 + i)), "10.0.0.1",
                     kNow + std::chrono::minutes(i)});
  }
  batch.push_back({Report("b.example.test", 443, kNow, "mode = \"report-only\"\n"), "10.0.0.2", kNow});
  auto ids = store->Insert(batch);
  ASSERT_TRUE(ids.ok()) << ids.error().ToString();
  ASSERT_EQ(ids->size(), 8u);

  auto by_host = *store->List({.host = "b.example.test"});
  ASSERT_EQ(by_host.reports.size(), 1u);
  EXPECT_EQ(by_host.reports[0].reason, "report-only-mismatch");
  EXPECT_EQ(by_host.reports[0].client, "10.0.0.2");
  EXPECT_EQ(by_host.reports[0].chain_pins.size(), 3u);
  EXPECT_EQ(by_host.reports[0].chain_pins[0], pki_->rogue_leaf_key.SpkiPin().ToString());
  EXPECT_EQ(store->List({.reason = "mismatch"})->reports.size(), 7u);
  EXPECT_EQ(store->List({.since = kNow + std::chrono::minutes(2), .until = kNow + std::chrono::minutes(5)})->reports.size(), 3u);

  // Paging: every report exactly once, newest first.
  std::set<std::int64_t> seen;
  std::optional<std::int64_t> cursor;
  int pages = 0;
  do {
    auto page = *store->List({.before_id = cursor, .limit = 3});
    for (const auto& report : page.reports) EXPECT_TRUE(seen.insert(report.id).second);
    cursor = page.next_cursor;
    ++pages;
  } while (cursor && pages < 10);
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(pages, 3);

  auto body = store->Body((*ids)[0]);
  ASSERT_TRUE(body.ok() && body->has_value());
  EXPECT_EQ(ParseReport(**body)->port, 1000);
  EXPECT_FALSE(store->Body(999999)->has_value());
}

// Bodies are kept byte for byte, compressed; a damaged one is an error, not garbage.
TEST_P(CollectorTest, BodiesAreStoredCompressedAndComeBackExact) {
  std::string database = Database();
  auto store = *ReportStore::Open(database);
  std::string body = Body("a.example.test");
  body.insert(1, "  \"extra\": \"kept as sent\", ");  // not what ReportToJson would write back
  auto ids = store->Insert({{*ParseReport(body), "c", kNow, body}});
  ASSERT_TRUE(ids.ok()) << ids.error().ToString();
  auto back = store->Body(ids->at(0));
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ(**back, body);

  auto session = GetParam() == "sqlite" ? OpenSqlite(database.substr(7)) : OpenPostgres(database);
  ASSERT_TRUE(session.ok());
  auto raw = (*session)->Query("SELECT body, body_zstd FROM reports WHERE id = $1", {ids->at(0)});
  ASSERT_TRUE(raw.ok()) << raw.error().ToString();
  EXPECT_EQ(raw->at(0).at(0), "");
  EXPECT_GT(raw->at(0).at(1).size(), 0u);
  EXPECT_LT(raw->at(0).at(1).size(), body.size() * 3 / 4);  // repeated certificates, base64 text

  ASSERT_TRUE((*session)->Query("UPDATE reports SET body_zstd = $1 WHERE id = $2",
                                {SqlBlob{std::string("\x28\xb5\x2f\xfd garbage", 12)}, ids->at(0)}).ok());
  auto damaged = store->Body(ids->at(0));
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.error().code(), ErrorCode::kDatabase);
}

TEST_P(CollectorTest, SummarizesPerHostReasonAndUnexpectedPins) {
  auto store = *ReportStore::Open(Database());
  std::vector<IncomingReport> batch;
  for (int i = 0; i < 3; ++i) batch.push_back({Report("a.example.test", 443), "c", kNow + std::chrono::minutes(i)});
  batch.push_back({Report("a.example.test", 443), "c", kNow + std::chrono::hours(1)});
  batch.push_back({Report("b.example.test", 443), "c", kNow + std::chrono::hours(1)});
  ASSERT_TRUE(store->Insert(batch).ok());
  auto summary = store->Summarize({.since = kNow, .until = kNow + std::chrono::hours(2)});
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  EXPECT_EQ(summary->total, 5);
  ASSERT_EQ(summary->totals.size(), 2u);
  EXPECT_EQ(summary->totals[0].hostname, "a.example.test");
  EXPECT_EQ(summary->totals[0].count, 4);
  ASSERT_EQ(summary->buckets.size(), 3u);  // a@12:00 (3), a@13:00 (1), b@13:00 (1)
  EXPECT_EQ(summary->buckets[0].start, kNow);
  EXPECT_EQ(summary->buckets[0].count, 3);
  // Each report's three rogue chain pins are unexpected; none is a known pin.
  ASSERT_EQ(summary->top_unexpected_pins.size(), 3u);
  EXPECT_EQ(summary->top_unexpected_pins[0].count, 5);
  std::set<std::string> pins;
  for (const auto& pin : summary->top_unexpected_pins) pins.insert(pin.pin);
  EXPECT_TRUE(pins.contains(pki_->rogue_root_key.SpkiPin().ToString()));
}

TEST_P(CollectorTest, GroupCommitStoresConcurrentSubmissions) {
  auto store = *ReportStore::Open(Database());
  IngestQueue queue(*store);
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto id = queue.Submit({Report("h" + std::to_string(t) + ".example.test", static_cast<std::uint16_t>(i + 1)),
                                "c", kNow});
        if (id.ok() && id->has_value()) ++stored;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stored.load(), 200);
  EXPECT_EQ(*store->Count(), 200);
  EXPECT_LT(queue.batches(), 200u);  // several reports shared a commit
}


// ---- storage bounds: quota and retention -------------------------------------

// What one report counts against the quota, derived the way the store counts it.
std::int64_t CountedBytes(const std::string& body) {
  return static_cast<std::int64_t>(CompressBody(body).size()) + kReportRowOverheadBytes;
}

TEST_P(CollectorTest, QuotaRefusesOnlyTheReportsThatDoNotFit) {
  std::string body = Body("a.example.test");
  const std::int64_t each = CountedBytes(body);
  auto store = *ReportStore::Open(Database(), {.max_bytes = 2 * each + each / 2});
  auto incoming = [&] { return IncomingReport{*ParseReport(body), "c", kNow, body}; };
  std::vector<PreparedReport> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(ReportStore::Prepare(incoming()));
  auto ids = store->InsertPrepared(batch);
  ASSERT_TRUE(ids.ok()) << ids.error().ToString();
  ASSERT_EQ(ids->size(), 3u);
  EXPECT_TRUE((*ids)[0].has_value());
  EXPECT_TRUE((*ids)[1].has_value());
  EXPECT_FALSE((*ids)[2].has_value());  // would pass the quota: not stored
  auto usage = store->Usage();
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->reports, 2);
  EXPECT_EQ(usage->bytes, 2 * each);
  // Insert is all or nothing.
  auto whole = store->Insert({incoming()});
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().code(), ErrorCode::kInputTooLarge);
  EXPECT_EQ(*store->Count(), 2);
  Status invariants = store->CheckInvariants();
  EXPECT_TRUE(invariants.ok()) << invariants.error().ToString();
  // Through the ingest queue: the refusal is an outcome, not an error.
  IngestQueue queue(*store);
  auto refused = queue.Submit(incoming());
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->has_value());
  EXPECT_EQ(queue.committed(), 0u);
}

TEST_P(CollectorTest, PrunesOldReportsInBatchesAndKeepsTheCountsExact) {
  auto store = *ReportStore::Open(Database());
  const TimePoint old_time = kNow - std::chrono::days(100);
  std::vector<IncomingReport> batch;
  for (int i = 0; i < 7; ++i) batch.push_back({Report("old.example.test"), "c", old_time + std::chrono::minutes(i)});
  for (int i = 0; i < 3; ++i) batch.push_back({Report("new.example.test"), "c", kNow + std::chrono::minutes(i)});
  ASSERT_TRUE(store->Insert(batch).ok());
  const std::int64_t before = store->Usage()->bytes;

  auto pruned = store->Prune(kNow - std::chrono::days(90), /*batch=*/2);
  ASSERT_TRUE(pruned.ok()) << pruned.error().ToString();
  EXPECT_EQ(pruned->reports, 7);
  EXPECT_EQ(pruned->transactions, 4);  // 2 + 2 + 2 + 1
  EXPECT_EQ(*store->Count(), 3);
  auto usage = store->Usage();
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->reports, 3);
  EXPECT_EQ(usage->bytes, before - pruned->bytes);
  Status invariants = store->CheckInvariants();
  EXPECT_TRUE(invariants.ok()) << invariants.error().ToString();
  EXPECT_EQ(store->List({.host = "old.example.test"})->reports.size(), 0u);
  EXPECT_EQ(store->List({.host = "new.example.test"})->reports.size(), 3u);
  // The old minutes' unexpected-pin counts went with them; the recent ones stay.
  EXPECT_TRUE(store->Summarize({.since = old_time, .until = old_time + std::chrono::hours(1)})->top_unexpected_pins.empty());
  EXPECT_EQ(store->Summarize({.since = kNow, .until = kNow + std::chrono::hours(1)})->top_unexpected_pins.at(0).count, 3);

  // Nothing left to prune: one empty transaction, nothing changes.
  auto again = store->Prune(kNow - std::chrono::days(90), 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->reports, 0);
  EXPECT_EQ(*store->Count(), 3);
  // A cancelled prune stops before its next transaction.
  std::atomic<bool> cancel{true};
  auto cancelled = store->Prune(kNow + std::chrono::days(1), 2, &cancel);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->reports, 0);
  EXPECT_EQ(*store->Count(), 3);
}

// ---- HTTP -------------------------------------------------------------------

class RunningCollector {
 public:
  RunningCollector(CollectorConfig config, const Clock* clock) {
    config.port = 0;
    auto created = Collector::Create(std::move(config), clock);
    if (!created) {
      ADD_FAILURE() << created.error().ToString();
      return;
    }
    collector_ = std::move(*created);
    port_ = *collector_->Bind();
    thread_ = std::thread([this] { collector_->Listen(); });
  }
  ~RunningCollector() {
    if (!collector_) return;
    collector_->Stop();
    thread_.join();
  }
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    return client;
  }
  int port() const { return port_; }
  Collector& collector() { return *collector_; }

 private:
  std::unique_ptr<Collector> collector_;
  int port_ = 0;
  std::thread thread_;
};

TEST_P(CollectorTest, AcceptsPinionHpkpAndTrustKitReports) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 0}, &clock);
  auto client = running.Client();
  Json pinion = Json::parse(Body("a.example.test"));
  Json hpkp = pinion;
  hpkp.erase("pinion");
  hpkp["hostname"] = "b.example.test";
  Json trustkit = hpkp;
  trustkit["hostname"] = "c.example.test";
  trustkit["app-bundle-id"] = "com.example.ios";
  trustkit["app-version"] = "7.1";
  trustkit["app-platform"] = "IOS";
  trustkit["trustkit-version"] = "3.0.0";
  trustkit["enforce-pin"] = true;
  trustkit["validation-result"] = 1;
  for (const Json& body : {pinion, hpkp, trustkit}) {
    auto response = client.Post("/v1/reports", body.dump(), "application/json");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 202) << response->body;
    EXPECT_TRUE(Json::parse(response->body)["id"].is_number_integer());
  }
  auto listed = client.Get("/v1/reports");
  ASSERT_TRUE(listed);
  Json reports = Json::parse(listed->body)["reports"];
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0]["format"], "trustkit");
  EXPECT_EQ(reports[0]["app"]["id"], "com.example.ios");
  EXPECT_EQ(reports[1]["format"], "hpkp");
  EXPECT_EQ(reports[2]["format"], "pinion");
  EXPECT_EQ(reports[2]["received_at"], "2026-11-21T12:00:00Z");
  EXPECT_EQ(reports[2]["client"], nullptr);  // client addresses are not published

  auto one = client.Get("/v1/reports/" + std::to_string(reports[2]["id"].get<std::int64_t>()));
  ASSERT_TRUE(one);
  EXPECT_EQ(Json::parse(one->body)["hostname"], "a.example.test");
}

TEST_P(CollectorTest, RefusesBadInputAndStoresNothingOfIt) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .max_body = 16 * 1024, .client_rate = 0}, &clock);
  auto client = running.Client();
  std::string good = Body("a.example.test");
  struct Case {
    std::string name;
    std::string body;
    std::string type;
    int status;
  };
  std::string invalid_utf8 = good;
  invalid_utf8.replace(invalid_utf8.find("com.example.app"), 3, "\xC3\x28x");
  Json no_host = Json::parse(good);
  no_host.erase("hostname");
  Json bad_host = Json::parse(good);
  bad_host["hostname"] = "exa mple..test";
  std::vector<Case> cases = {
      {"malformed JSON", "{\"hostname\": ", "application/json", 400},
      {"not an object", "[1, 2]", "application/json", 400},
      {"wrong content type", good, "text/plain", 415},
      {"form post", good, "application/x-www-form-urlencoded", 415},
      {"over the size cap", std::string(20 * 1024, ' ') + good, "application/json", 413},
      {"invalid UTF-8", invalid_utf8, "application/json", 400},
      {"no hostname", no_host.dump(), "application/json", 400},
      {"bad hostname", bad_host.dump(), "application/json", 400},
      {"empty", "", "application/json", 400},
  };
  for (const Case& item : cases) {
    auto response = client.Post("/v1/reports", item.body, item.type);
    ASSERT_TRUE(response) << item.name;
    EXPECT_EQ(response->status, item.status) << item.name << ": " << response->body;
    if (response->status != 413) {
      Json error = Json::parse(response->body, nullptr, false);
      EXPECT_TRUE(error.contains("error")) << item.name << ": " << response->body;
    }
  }
  EXPECT_EQ(*running.collector().store().Count(), 0);
  auto ok = client.Post("/v1/reports", good, "application/json; charset=utf-8");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202);
  EXPECT_EQ(*running.collector().store().Count(), 1);
  // Bad query parameters are 400s too.
  EXPECT_EQ(client.Get("/v1/reports?limit=0")->status, 400);
  EXPECT_EQ(client.Get("/v1/reports?since=yesterday")->status, 400);
  EXPECT_EQ(client.Get("/v1/summary?bucket=1")->status, 400);
  EXPECT_EQ(client.Get("/v1/nothing")->status, 404);
}

TEST_P(CollectorTest, RateLimitsEachClient) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 1, .client_burst = 3}, &clock);
  auto client = running.Client();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.Post("/v1/reports", Body("a.example.test"), "application/json")->status, 202);
  auto limited = client.Post("/v1/reports", Body("a.example.test"), "application/json");
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(client.Post("/v1/reports", Body("a.example.test"), "application/json")->status, 202);
  EXPECT_EQ(*running.collector().store().Count(), 4);
}

TEST_P(CollectorTest, ConcurrentFloodGets202Or429AndEvery202IsStored) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 1, .client_burst = 150, .threads = 16}, &clock);
  std::atomic<int> accepted{0};
  std::atomic<int> limited{0};
  std::atomic<int> other{0};
  std::string body = Body("a.example.test");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto client = running.Client();
      for (int i = 0; i < 40; ++i) {
        auto response = client.Post("/v1/reports", body, "application/json");
        int status = response ? response->status : 0;
        (status == 202 ? accepted : status == 429 ? limited : other)++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(accepted.load(), 150);  // the burst, exactly: the clock did not move
  EXPECT_EQ(limited.load(), 320 - 150);
  EXPECT_EQ(*running.collector().store().Count(), accepted.load());
  EXPECT_EQ(running.Client().Get("/healthz")->status, 200);
}

// A plain socket to the collector on 127.0.0.1, closed at destruction.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval limit{10, 0};  // bounds every read below
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  }
  ~RawConnection() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // What the server has sent so far (waits for at least one byte).
  std::string ReadSome() {
    char buffer[4096];
    ssize_t received = recv(fd_, buffer, sizeof(buffer), 0);
    return received > 0 ? std::string(buffer, static_cast<std::size_t>(received)) : "";
  }
  // Everything the server sends until it closes the connection; nullopt
  // when it is still open after the receive timeout.
  std::optional<std::string> ReadToEnd() {
    std::string answer;
    char buffer[4096];
    ssize_t received = 0;
    while ((received = recv(fd_, buffer, sizeof(buffer), 0)) > 0) answer.append(buffer, static_cast<std::size_t>(received));
    if (received != 0) return std::nullopt;
    return answer;
  }

 private:
  int fd_;
  bool connected_ = false;
};

std::string PostRequest(const std::string& body) {
  return "POST /v1/reports HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

TEST_P(CollectorTest, CutsOffSlowClientsAndKeepsServingOthers) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 0, .threads = 4,
                            .read_timeout = std::chrono::seconds(1)},
                           &clock);
  // A client that announces a body and then stalls.
  RawConnection stalled(running.port());
  ASSERT_TRUE(stalled.connected());
  ASSERT_TRUE(stalled.Send("POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: 4000\r\n\r\n{\"host"));
  // Meanwhile others are served.
  auto client = running.Client();
  EXPECT_EQ(client.Post("/v1/reports", Body("a.example.test"), "application/json")->status, 202);
  // The stalled connection is closed by the server after its read timeout
  // (bounded here by RawConnection's own 10 s receive timeout), unanswered.
  EXPECT_EQ(stalled.ReadToEnd(), std::optional<std::string>("")) << "still open, or answered";
  EXPECT_EQ(*running.collector().store().Count(), 1);
}

// Connections are not threads: 300 clients connected at the same moment (far
// beyond a small listen backlog) are all answered, and every 202 is stored.
TEST_P(CollectorTest, ServesManyConnectionsAtOnce) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 0, .threads = 2}, &clock);
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < 300; ++i) {
    connections.push_back(std::make_unique<RawConnection>(running.port()));
    ASSERT_TRUE(connections.back()->connected()) << i;
  }
  std::string request = PostRequest(Body("a.example.test"));
  for (auto& connection : connections) ASSERT_TRUE(connection->Send(request));
  int accepted = 0;
  for (auto& connection : connections) accepted += connection->ReadToEnd().value_or("").starts_with("HTTP/1.1 202") ? 1 : 0;
  EXPECT_EQ(accepted, 300);
  EXPECT_EQ(*running.collector().store().Count(), 300);
  auto health = Json::parse(running.Client().Get("/healthz")->body);
  EXPECT_EQ(health["ingest"]["reports"], 300);
  EXPECT_LT(health["ingest"]["commits"].get<int>(), 300);  // reports shared commits
}

// libcurl sends "Expect: 100-continue" with bodies over 1 KiB and waits for
// the 100 before sending the body: the collector answers it at once.
TEST_P(CollectorTest, AnswersExpectContinue) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 0}, &clock);
  std::string body = Body("a.example.test");
  RawConnection connection(running.port());
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send("POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) +
                              "\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(connection.ReadSome(), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(connection.Send(body));
  EXPECT_TRUE(connection.ReadToEnd().value_or("").starts_with("HTTP/1.1 202")) << "no 202 after the body";
  EXPECT_EQ(*running.collector().store().Count(), 1);
}

// What is not HTTP gets one 400 and a closed connection; the service goes on.
TEST_P(CollectorTest, UnreadableHttpIsRefusedAndClosed) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 0}, &clock);
  const std::string unreadable[] = {
      "NOT HTTP AT ALL\r\n\r\n",
      "POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(20 * 1024, 'a') + "\r\n\r\n",
  };
  for (const std::string& request : unreadable) {
    RawConnection connection(running.port());
    ASSERT_TRUE(connection.connected());
    ASSERT_TRUE(connection.Send(request));
    std::string answer = connection.ReadToEnd().value_or("(still open)");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << request.substr(0, 40) << " → " << answer.substr(0, 80);
  }
  EXPECT_EQ(running.Client().Get("/healthz")->status, 200);
  EXPECT_EQ(*running.collector().store().Count(), 0);
}

TEST_P(CollectorTest, ServesManifestsWithEtagsAndCaching) {
  FixedClock clock(kNow);
  std::filesystem::create_directories(dir_.path() / "manifests");
  dir_.Write("manifests/app.json", "{\"payloadType\":\"application/vnd.pinion.manifest+json\"}");
  RunningCollector running({.database = Database(), .manifests = (dir_.path() / "manifests").string()}, &clock);
  auto client = running.Client();
  auto first = client.Get("/v1/manifests/app");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "{\"payloadType\":\"application/vnd.pinion.manifest+json\"}");
  std::string etag = first->get_header_value("ETag");
  EXPECT_EQ(etag.size(), 34u);
  EXPECT_NE(first->get_header_value("Cache-Control").find("max-age=300"), std::string::npos);
  auto again = client.Get("/v1/manifests/app", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  dir_.Write("manifests/app.json", "{\"payloadType\":\"changed\"}");
  auto changed = client.Get("/v1/manifests/app", {{"If-None-Match", etag}});
  EXPECT_EQ(changed->status, 200);
  EXPECT_NE(changed->get_header_value("ETag"), etag);
  EXPECT_EQ(client.Get("/v1/manifests/other")->status, 404);
  EXPECT_EQ(client.Get("/v1/manifests/..hidden")->status, 400);
  // No way out of the directory: an encoded "../" never reaches the file system.
  dir_.Write("secret.json", "top secret");
  auto escaped = client.Get("/v1/manifests/%2e%2e%2fsecret");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->status, 404);
  EXPECT_EQ(escaped->body.find("top secret"), std::string::npos);
}

TEST_P(CollectorTest, HealthSummaryAndDashboard) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 0}, &clock);
  auto client = running.Client();
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(Json::parse(health->body)["database"], GetParam() == "sqlite" ? "sqlite" : "postgresql");
  EXPECT_EQ(Json::parse(health->body)["schema_version"], LatestSchemaVersion());

  for (std::uint16_t port : {1, 2, 3}) client.Post("/v1/reports", Body("a.example.test", port), "application/json");
  client.Post("/v1/reports", Body("b.example.test"), "application/json");
  auto summary = client.Get("/v1/summary");
  ASSERT_TRUE(summary);
  Json json = Json::parse(summary->body);
  EXPECT_EQ(json["total"], 4);
  EXPECT_EQ(json["per_host"][0]["hostname"], "a.example.test");
  EXPECT_EQ(json["per_host"][0]["count"], 3);
  EXPECT_EQ(json["top_unexpected_pins"][0]["count"], 4);

  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page->body.find("id=\"failures-chart\""), std::string::npos);
  EXPECT_NE(page->body.find("data-host=\"a.example.test\" data-count=\"3\""), std::string::npos);
  EXPECT_NE(page->body.find(pki_->rogue_leaf_key.SpkiPin().ToString()), std::string::npos);
  EXPECT_EQ(page->body.find("<script"), std::string::npos);
}

TEST_P(CollectorTest, DashboardShowsThePolicyExpiryTimeline) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database()}, &clock);
  dir_.Write("p.toml", "[policy]\nversion = 4\n[[domain]]\nhost = \"pay.example.test\"\nexpires = 2026-12-01T12:00:00Z\n"
                       "pins = [ { pin = \"" + pki_->root_key.SpkiPin().ToString() + "\", label = \"root <2026>\" },\n"
                       "         { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" } ]\n");
  RunningCollector with_policy({.database = Database(), .policy = (dir_.path() / "p.toml").string()}, &clock);
  auto page = with_policy.Client().Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("id=\"expiry-timeline\""), std::string::npos);
  EXPECT_NE(page->body.find("data-host=\"pay.example.test\""), std::string::npos);
  EXPECT_NE(page->body.find("10 days"), std::string::npos);
  EXPECT_NE(page->body.find("root &lt;2026&gt;"), std::string::npos);  // labels are escaped
  EXPECT_NE(running.Client().Get("/")->body.find("No policy loaded"), std::string::npos);
}


// A client posting valid reports without end fills the quota, and then is
// refused with 507 (counted) while every report answered 202 stays readable;
// retention frees room again.
TEST_P(CollectorTest, StorageQuotaRefusesWith507AndRetentionFreesRoom) {
  FixedClock clock(kNow);
  std::string body = Body("a.example.test");
  const std::int64_t each = CountedBytes(body);
  RunningCollector running({.database = Database(), .client_rate = 0, .max_db_bytes = 3 * each + each / 2,
                            .retain = std::chrono::days(90), .maintenance_interval = std::chrono::seconds(0)},
                           &clock);
  auto client = running.Client();
  std::vector<std::int64_t> accepted;
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) {
    auto response = client.Post("/v1/reports", body, "application/json");
    ASSERT_TRUE(response);
    statuses.push_back(response->status);
    if (response->status == 202) accepted.push_back(Json::parse(response->body)["id"].get<std::int64_t>());
    if (response->status == 507) {
      Json error = Json::parse(response->body);
      EXPECT_EQ(error["error"]["code"], "storage_full");
      EXPECT_EQ(response->get_header_value("Retry-After"), "600");
    }
  }
  EXPECT_EQ(statuses, (std::vector<int>{202, 202, 202, 507, 507}));
  for (std::int64_t id : accepted) {
    auto stored = client.Get("/v1/reports/" + std::to_string(id));
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, 200);
    EXPECT_EQ(stored->body, body);
  }
  Json health = Json::parse(client.Get("/healthz")->body);
  EXPECT_EQ(health["storage"]["reports"], 3);
  EXPECT_EQ(health["storage"]["bytes"], 3 * each);
  EXPECT_EQ(health["storage"]["max_bytes"], 3 * each + each / 2);
  EXPECT_EQ(health["storage"]["refused_full"], 2);
  EXPECT_EQ(health["ingest"]["reports"], 3);
  Status invariants = running.collector().store().CheckInvariants();
  EXPECT_TRUE(invariants.ok()) << invariants.error().ToString();

  // 90 days on, the three are past retention: pruned, and reports fit again.
  clock.Advance(std::chrono::days(90) + std::chrono::seconds(1));
  auto pruned = running.collector().RunMaintenance();
  ASSERT_TRUE(pruned.ok()) << pruned.error().ToString();
  EXPECT_EQ(pruned->reports, 3);
  EXPECT_EQ(client.Post("/v1/reports", body, "application/json")->status, 202);
  health = Json::parse(client.Get("/healthz")->body);
  EXPECT_EQ(health["storage"]["reports"], 1);
  EXPECT_EQ(health["storage"]["pruned"], 3);
  EXPECT_EQ(health["storage"]["retain_seconds"], 90 * 86400);
}

// While listening, retention runs by itself (the first pass as serving starts).
TEST_P(CollectorTest, PrunesOnItsOwnWhileListening) {
  FixedClock clock(kNow);
  std::string database = Database();
  {
    auto store = *ReportStore::Open(database);
    std::vector<IncomingReport> batch;
    for (int i = 0; i < 5; ++i) batch.push_back({Report("a.example.test"), "c", kNow - std::chrono::days(91)});
    batch.push_back({Report("a.example.test"), "c", kNow - std::chrono::days(89)});
    ASSERT_TRUE(store->Insert(batch).ok());
  }
  RunningCollector running({.database = database, .retain = std::chrono::days(90),
                            .maintenance_interval = std::chrono::seconds(3600)},
                           &clock);
  // Waits for the pass (bounded), it does not make time pass: the clock is fixed.
  auto client = running.Client();
  Json health;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       std::chrono::steady_clock::now() < deadline;) {
    health = Json::parse(client.Get("/healthz")->body);
    if (health["storage"]["pruned"] == 5) break;
    std::this_thread::yield();
  }
  EXPECT_EQ(health["storage"]["pruned"], 5);
  EXPECT_EQ(health["storage"]["reports"], 1);
  EXPECT_EQ(*running.collector().store().Count(), 1);
}

TEST_P(CollectorTest, ReadRoutesNeedTheBearerTokenWhenOneIsConfigured) {
  FixedClock clock(kNow);
  const std::string token = "7d1e0c9b2a4f6e8d0c1b3a5f7e9d2c4b";
  auto token_file = dir_.Write("read-token", token + "\n");
  RunningCollector running({.database = Database(), .client_rate = 0, .read_token_file = token_file.string()},
                           &clock);
  auto client = running.Client();
  // Reports and health need no token.
  auto posted = client.Post("/v1/reports", Body("a.example.test"), "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 202);
  const std::string id = std::to_string(Json::parse(posted->body)["id"].get<std::int64_t>());
  EXPECT_EQ(client.Get("/healthz")->status, 200);

  for (const std::string& path : std::vector<std::string>{"/v1/reports", "/v1/reports/" + id, "/v1/summary", "/"}) {
    auto none = client.Get(path);
    ASSERT_TRUE(none) << path;
    EXPECT_EQ(none->status, 401) << path;
    EXPECT_EQ(Json::parse(none->body)["error"]["code"], "unauthorized") << path;
    EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"pinion\"") << path;
    EXPECT_EQ(none->body.find("a.example.test"), std::string::npos) << path;

    auto wrong = client.Get(path, {{"Authorization", "Bearer " + token.substr(0, token.size() - 1) + "0"}});
    ASSERT_TRUE(wrong) << path;
    EXPECT_EQ(wrong->status, 401) << path;
    EXPECT_EQ(wrong->get_header_value("WWW-Authenticate"), "Bearer realm=\"pinion\", error=\"invalid_token\"") << path;
    EXPECT_EQ(client.Get(path, {{"Authorization", "Basic " + token}})->status, 401) << path;

    auto right = client.Get(path, {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(right) << path;
    EXPECT_EQ(right->status, 200) << path;
    EXPECT_NE(right->body.find("a.example.test"), std::string::npos) << path;
  }
}

// Loopback without a token file: reads are open (the dashboard on the same machine).
TEST_P(CollectorTest, LoopbackListenerWithoutATokenServesReads) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 0}, &clock);
  EXPECT_FALSE(running.collector().reads_disabled());
  auto client = running.Client();
  ASSERT_EQ(client.Post("/v1/reports", Body("a.example.test"), "application/json")->status, 202);
  for (const char* path : {"/v1/reports", "/v1/reports/1", "/v1/summary", "/"}) {
    EXPECT_EQ(client.Get(path)->status, 200) << path;
  }
}

// Report bodies are attacker-written text: never sniffed, never cached.
TEST_P(CollectorTest, ReportBodiesAndListingsAreNotSniffedOrCached) {
  FixedClock clock(kNow);
  RunningCollector running({.database = Database(), .client_rate = 0}, &clock);
  auto client = running.Client();
  auto posted = client.Post("/v1/reports", Body("a.example.test"), "application/json");
  ASSERT_TRUE(posted);
  const std::string id = std::to_string(Json::parse(posted->body)["id"].get<std::int64_t>());
  for (const std::string& path : std::vector<std::string>{"/v1/reports/" + id, "/v1/reports",
                                                          "/v1/reports?host=a.example.test", "/v1/summary", "/",
                                                          "/v1/reports/999999"}) {
    auto response = client.Get(path);
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(response->get_header_value("Cache-Control"), "no-store") << path;
  }
  auto body = client.Get("/v1/reports/" + id);
  EXPECT_EQ(body->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(body->get_header_value("Content-Security-Policy"), "default-src 'none'; sandbox");
}

INSTANTIATE_TEST_SUITE_P(Stores, CollectorTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

// `pinion serve` refuses what it cannot honour, before listening: exit 2.
TEST(CollectorServeCommandTest, RefusesBadBoundsAndTokenFiles) {
  TempDir dir;
  const std::string serve = std::string(PINION_BINARY) + " serve --port 0 --db " + (dir.path() / "r.db").string();
  struct Case {
    std::string args;
    std::string says;
  };
  dir.Write("short-token", "abc\n");
  for (const Case& item : {Case{"--retain 90", "duration"}, Case{"--retain 0d", "--retain"},
                           Case{"--max-db-bytes -5", "max-db-bytes"},
                           Case{"--read-token-file " + (dir.path() / "missing").string(), "read-token"},
                           Case{"--read-token-file " + (dir.path() / "short-token").string(), "at least 16"}}) {
    auto result = pinion::testing::RunCommand(serve + " " + item.args + " 2>&1");
    EXPECT_EQ(result.exit_code, 2) << item.args << ": " << result.output;
    EXPECT_NE(result.output.find(item.says), std::string::npos) << item.args << ": " << result.output;
  }
}

}  // namespace
}  // namespace pinion::collector
