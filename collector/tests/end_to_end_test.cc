// The whole reporting path, with real parts only: a libcurl client pinned by
// pinion meets a rogue-CA certificate on 127.0.0.1, the verdict becomes a
// report (Reporter), is spooled, and the ReportUploader delivers it over
// pinned HTTPS to a real `pinion serve --tls-cert` process, which stores it.
#include <gtest/gtest.h>

#include "pinion/curl/pinning.h"
#include "pinion/curl/report_uploader.h"
#include "pinion/policy_loader.h"
#include "pinion/report/reporter.h"
#include "store/report_store.h"
#include "serve_process.h"
#include "test_pki.h"
#include "tls_server.h"

namespace pinion::collector {
namespace {

using pinion::testing::LoopbackTlsServer;
using pinion::testing::TempDir;
using pinion::testing::TestPki;

TEST(EndToEndTest, ARogueCertificateIsReportedAndStoredByTheCollector) {
  TempDir dir;
  // curl resolves *.localhost to loopback (RFC 6761), so both hosts are 127.0.0.1.
  TestPki app = TestPki::Create("app.localhost");
  TestPki collector = TestPki::Create("localhost");
  dir.Write("collector-chain.pem", collector.LeafChainPem());
  dir.Write("collector.key", collector.leaf_key.PrivatePem());
  // The device trusts the rogue CA too (a compromised trust store): only pins tell.
  dir.Write("roots.pem", app.root.Pem() + app.rogue_root.Pem() + collector.root.Pem());

  testing::ServeProcess serve("sqlite:" + (dir.path() / "reports.db").string(), dir.path() / "port",
                              {"--tls-cert", (dir.path() / "collector-chain.pem").string(), "--tls-key",
                               (dir.path() / "collector.key").string()});
  ASSERT_GT(serve.port(), 0);
  LoopbackTlsServer attacker({.chain_pem = app.RogueChainPem(), .key_pem = app.rogue_leaf_key.PrivatePem()});

  std::string report_uri = "https://localhost:" + std::to_string(serve.port()) + "/v1/reports";
  auto policy = ParsePolicyToml(
      "[policy]\nversion = 9\n"
      "[[domain]]\nhost = \"app.localhost\"\nreport_uri = [\"" + report_uri + "\"]\n"
      "pins = [ { pin = \"" + app.leaf_key.SpkiPin().ToString() + "\" },\n"
      "         { pin = \"" + app.backup_key.SpkiPin().ToString() + "\" } ]\n"
      "[[domain]]\nhost = \"localhost\"\n"
      "pins = [ { pin = \"" + collector.leaf_key.SpkiPin().ToString() + "\" },\n"
      "         { pin = \"" + collector.backup_key.SpkiPin().ToString() + "\" } ]\n",
      "policy.toml");
  ASSERT_TRUE(policy.ok()) << policy.error().ToString();
  PolicyStore store(*policy);
  auto reporter = Reporter::Create(dir.path() / "spool", {.app = {.id = "com.example.e2e", .version = "1.0"}});
  ASSERT_TRUE(reporter.ok());

  // The application's own request: pinned, refused, reported.
  openssl::EnforcerOptions enforcer_options;
  enforcer_options.on_verdict = (*reporter)->Callback();
  auto pinning = curl::CurlPinning::Create(store, enforcer_options);
  ASSERT_TRUE(pinning.ok());
  CURL* easy = curl_easy_init();
  std::string url = "https://app.localhost:" + std::to_string(attacker.port()) + "/";
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_CAINFO, (dir.path() / "roots.pem").c_str());
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
  ASSERT_TRUE((*pinning)->Install(easy).ok());
  CURLcode code = curl_easy_perform(easy);
  auto verdict = (*pinning)->VerdictOf(easy);
  (*pinning)->Uninstall(easy);
  curl_easy_cleanup(easy);
  EXPECT_NE(code, CURLE_OK);
  ASSERT_NE(verdict, nullptr);
  EXPECT_EQ(verdict->reason, VerdictReason::kMismatch);

  (*reporter)->Flush();
  auto uploader = curl::ReportUploader::Create(**reporter, store, {.ca_file = (dir.path() / "roots.pem").string()});
  ASSERT_TRUE(uploader.ok());
  curl::UploadRound round = (*uploader)->UploadOnce();
  EXPECT_EQ(round.delivered, 1u) << (round.last_error ? round.last_error->ToString() : "");

  serve.Kill(SIGTERM);
  auto reports = ReportStore::Open("sqlite:" + (dir.path() / "reports.db").string());
  ASSERT_TRUE(reports.ok());
  auto page = (*reports)->List({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->reports.size(), 1u);
  const StoredReport& stored = page->reports[0];
  EXPECT_EQ(stored.hostname, "app.localhost");
  EXPECT_EQ(stored.reason, "mismatch");
  EXPECT_EQ(stored.policy_version, 9u);
  EXPECT_EQ(stored.app.id, "com.example.e2e");
  ASSERT_FALSE(stored.chain_pins.empty());
  EXPECT_EQ(stored.chain_pins[0], app.rogue_leaf_key.SpkiPin().ToString());
}

}  // namespace
}  // namespace pinion::collector
