// kill -9 of a real `pinion serve` process at random moments while clients
// post reports: after each restart on the same database, every report that
// was answered 202 is there. Run against SQLite and PostgreSQL.
#include <signal.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "pinion/evaluate.h"
#include "pinion/policy_loader.h"
#include "postgres_cluster.h"
#include "serve_process.h"
#include "store/report_store.h"
#include "test_pki.h"

namespace pinion::collector {
namespace {

using pinion::testing::TempDir;
using pinion::testing::TestPki;

class CrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("crash.example.test")); }
  static void TearDownTestSuite() { delete pki_; }

  static std::string Body(const std::string& host) {
    auto policy = ParsePolicyToml("[policy]\nversion = 1\n[[domain]]\nhost = \"" + host + "\"\n"
                                      "pins = [ { pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" },\n"
                                      "         { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" } ]\n",
                                  "t.toml");
    auto chain = *VerifiedChain::FromChainValidatedByCaller({pki_->rogue_leaf.Der(), pki_->rogue_root.Der()});
    return ReportToJson(*BuildReport(Evaluate(*policy, host, 443, chain, SystemClock::Instance().Now()), {}));
  }

  static TestPki* pki_;
  TempDir dir_;
};
TestPki* CrashTest::pki_ = nullptr;


TEST_P(CrashTest, KillNineUnderLoadLosesNoAcceptedReport) {
  std::string database;
  if (GetParam() == "sqlite") {
    database = "sqlite:" + (dir_.path() / "reports.db").string();
  } else {
    database = testing::SharedPostgresCluster().FreshDatabase();
  }
  // Each body is unique (its host name), made up front so the clients only post.
  constexpr int kClients = 4;
  constexpr int kPerClient = 400;
  std::vector<std::vector<std::string>> bodies(kClients);
  for (int c = 0; c < kClients; ++c) {
    for (int i = 0; i < kPerClient; ++i) bodies[c].push_back(Body("r" + std::to_string(c) + "-" + std::to_string(i) + ".example.test"));
  }
  std::mutex mutex;
  std::set<std::string> accepted;  // host names answered 202
  std::atomic<int> port{0};
  std::atomic<bool> finished{false};
  std::vector<int> next(kClients, 0);

  auto client_loop = [&](int c) {
    while (!finished && next[c] < kPerClient) {
      int current_port = port;
      if (current_port == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      httplib::Client client("127.0.0.1", current_port);
      client.set_connection_timeout(1, 0);
      client.set_read_timeout(5, 0);
      auto response = client.Post("/v1/reports", bodies[c][next[c]], "application/json");
      if (response && response->status == 202) {
        std::lock_guard<std::mutex> lock(mutex);
        accepted.insert("r" + std::to_string(c) + "-" + std::to_string(next[c]) + ".example.test");
        ++next[c];
      } else if (!response) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the server is down; retry the same report
      }
    }
  };

  std::seed_seq seed{static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count())};
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(30, 250);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) clients.emplace_back(client_loop, c);
  constexpr int kKills = 5;
  int kills = 0;
  for (int round = 0; round <= kKills; ++round) {
    auto server = std::make_unique<testing::ServeProcess>(database, dir_.path() / "port");
    ASSERT_GT(server->port(), 0) << "pinion serve did not start";
    port = server->port();
    int wait = delay_ms(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));  // let load build up: real time on purpose
    if (round < kKills) {
      port = 0;
      server->Kill(SIGKILL);  // mid-request, mid-transaction: wherever it is
      ++kills;
    } else {
      finished = true;
      for (auto& thread : clients) thread.join();
      server->Kill(SIGTERM);
    }
  }
  EXPECT_EQ(kills, kKills);

  auto store = ReportStore::Open(database);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  std::set<std::string> stored;
  std::optional<std::int64_t> cursor;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = (*store)->List({.before_id = cursor, .limit = 1000});
    ASSERT_TRUE(page.ok());
    for (const auto& report : page->reports) stored.insert(report.hostname);
    cursor = page->next_cursor;
    if (!cursor) break;
  }
  std::size_t missing = 0;
  for (const std::string& host : accepted) missing += stored.contains(host) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "of " << accepted.size() << " reports answered 202";
  EXPECT_GT(accepted.size(), 50u) << "too little load to mean anything";
  // Reports stored but never acknowledged (killed between commit and answer) are allowed: the client retries.
  EXPECT_GE(stored.size(), accepted.size());
}

INSTANTIATE_TEST_SUITE_P(Stores, CrashTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace pinion::collector
