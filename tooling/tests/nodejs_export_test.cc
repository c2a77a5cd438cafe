// `pinion export --to nodejs` run by the real node against real TLS servers
// on 127.0.0.1 (generated PKIs), in its three forms (checkServerIdentity,
// agentOptions, createAgent), with failure reports delivered to a real
// collector (the code of `pinion serve`, over HTTPS), which validates the
// body as it does for every client, stores it, and is read back here.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <chrono>
#include <netinet/in.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "collector.h"
#include "pinion/policy_loader.h"
#include "pinion/report/report.h"
#include "pinion/tooling/export.h"
#include "store/report_store.h"
#include "silent_listener.h"
#include "test_pki.h"
#include "tls_server.h"
#include "report_parse.h"

namespace pinion::tooling {
namespace {

using testing::Cert;
using testing::Issue;
using testing::Key;
using testing::LoopbackTlsServer;
using testing::SilentListener;
using testing::TempDir;
using testing::TestPki;
using Json = nlohmann::json;

constexpr char kHost[] = "api.example.test";
constexpr char kHttpReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

std::string Quote(const std::string& text) {  // for a shell command line
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class NodeExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("trust.pem", pki_.root.Pem() + pki_.rogue_root.Pem());
    dir_.Write("root.pem", pki_.root.Pem());
    // The collector: its own CA, a certificate for 127.0.0.1.
    collector_leaf_ = Issue({.common_name = "collector", .ip_addresses = {"127.0.0.1"}}, collector_key_,
                            &pki_.root, pki_.root_key);
    dir_.Write("collector-chain.pem", collector_leaf_.Pem());
    dir_.Write("collector.key", collector_key_.PrivatePem());
    auto collector = collector::Collector::Create({.listen = "127.0.0.1",
                                                   .port = 0,
                                                   .database = "sqlite:" + (dir_.path() / "reports.db").string(),
                                                   .tls_certificate = (dir_.path() / "collector-chain.pem").string(),
                                                   .tls_key = (dir_.path() / "collector.key").string(),
                                                   .client_rate = 0,
                                                   .threads = 2});
    ASSERT_TRUE(collector.ok()) << collector.error().ToString();
    collector_ = std::move(*collector);
    auto port = collector_->Bind();
    ASSERT_TRUE(port.ok());
    collector_port_ = *port;
    serving_ = std::thread([this] { collector_->Listen(); });
  }
  void TearDown() override {
    if (collector_) collector_->Stop();
    if (serving_.joinable()) serving_.join();
  }

  std::string CollectorUri() const { return "https://127.0.0.1:" + std::to_string(collector_port_) + "/v1/reports"; }

  // Writes pins.js for one rule on `host` (extra TOML lines before pins).
  void ExportModule(const std::string& host, const std::string& extra, const std::vector<Pin>& pins) {
    std::string toml = "[policy]\nversion = 7\n[[domain]]\nhost = \"" + host + "\"\n" + extra + "pins = [\n";
    for (const Pin& pin : pins) toml += "  { pin = \"" + pin.ToString() + "\", label = \"k\" },\n";
    auto policy = ParsePolicyToml(toml + "]\n", "nodejs.toml");
    ASSERT_TRUE(policy.ok()) << policy.error().ToString();
    auto exported = ExportPolicy(**policy, ExportFormat::kNodeJs, {.source_name = "nodejs.toml"});
    ASSERT_TRUE(exported.ok()) << exported.error().ToString();
    dir_.Write("pins.js", exported->text);
  }
  std::vector<Pin> GenuinePins() const { return {pki_.leaf_key.SpkiPin(), pki_.backup_key.SpkiPin()}; }

  // Runs the driver; returns its JSON ({results, events}).
  Json Node(Json args) {
    args["module"] = (dir_.path() / "pins.js").string();
    if (!args.contains("host")) args["host"] = kHost;
    if (!args.contains("reportCa")) args["reportCa"] = (dir_.path() / "root.pem").string();
    testing::CommandResult run = testing::RunCommand("node " PINION_NODEJS_DRIVER " " + Quote(args.dump()) + " 2>&1");
    std::string last = run.output.substr(0, run.output.find_last_not_of('\n') + 1);
    last = last.substr(last.find_last_of('\n') + 1);
    Json out = Json::parse(last, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << run.output;
    return out.is_discarded() ? Json{{"results", Json::array()}, {"events", Json::array()}} : out;
  }
  std::string Ca(const std::string& name) const { return (dir_.path() / name).string(); }

  std::vector<collector::StoredReport> Stored() {
    auto page = collector_->store().List({.host = std::string(kHost), .limit = 100});
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->reports : std::vector<collector::StoredReport>{};
  }

  static std::size_t Count(const Json& events, const std::string& outcome) {
    std::size_t n = 0;
    for (const Json& event : events) n += event.value("outcome", "") == outcome;
    return n;
  }

  TempDir dir_;
  TestPki pki_ = TestPki::Create(kHost);
  Key collector_key_ = Key::Generate();
  Cert collector_leaf_;
  LoopbackTlsServer legit_{{.chain_pem = pki_.LeafChainPem(), .key_pem = pki_.leaf_key.PrivatePem(), .reply = kHttpReply}};
  LoopbackTlsServer rogue_{
      {.chain_pem = pki_.RogueChainPem(), .key_pem = pki_.rogue_leaf_key.PrivatePem(), .reply = kHttpReply}};
  std::unique_ptr<collector::Collector> collector_;
  int collector_port_ = 0;
  std::thread serving_;
};

TEST_F(NodeExportTest, GenuineChainAcceptedRogueChainRefusedInEveryForm) {
  ExportModule(kHost, "", GenuinePins());
  for (const char* form : {"check", "agentOptions", "agent"}) {
    SCOPED_TRACE(form);
    Json legit = Node({{"form", form}, {"port", legit_.port()}, {"ca", Ca("trust.pem")}});
    ASSERT_EQ(legit["results"].size(), 1u);
    EXPECT_EQ(legit["results"][0]["result"], "accepted") << legit.dump();
    // Node trusts the rogue CA (it is in `ca`): only the pins refuse it.
    Json rogue = Node({{"form", form}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")}});
    ASSERT_EQ(rogue["results"].size(), 1u);
    EXPECT_EQ(rogue["results"][0]["result"], "rejected");
    EXPECT_EQ(rogue["results"][0]["code"], "ERR_PINION_PIN_MISMATCH") << rogue.dump();
  }
}

TEST_F(NodeExportTest, WrongHostNameRefusedEvenThoughAPinMatches) {
  ExportModule("**.example.test", "", GenuinePins());
  for (const char* form : {"check", "agentOptions", "agent"}) {
    SCOPED_TRACE(form);
    Json run = Node({{"form", form}, {"host", "www.example.test"}, {"port", legit_.port()}, {"ca", Ca("trust.pem")}});
    ASSERT_EQ(run["results"].size(), 1u);
    EXPECT_EQ(run["results"][0]["code"], "ERR_TLS_CERT_ALTNAME_INVALID") << run.dump();
  }
}

// Node links getPeerCertificate(true)'s issuerCertificate by issuer name from
// the served list, without checking signatures; OpenSSL validated another
// path. Served: a rogue leaf (no authority key identifier) under a rogue
// intermediate that copies the genuine intermediate's name, an expired copy
// of the genuine intermediate first (OpenSSL skips it, Node links it), then
// the rogue intermediate. The genuine intermediate's key is pinned: only the
// module's own signature check keeps the rogue chain out.
TEST_F(NodeExportTest, AServedCertificateUnderTheIssuersNameDoesNotMatchAPin) {
  Cert stale_genuine = Issue({.common_name = "pinion Test Intermediate", .is_ca = true,
                              .not_before_offset = -std::chrono::hours(24 * 400),
                              .not_after_offset = -std::chrono::hours(24 * 30)},
                             pki_.intermediate_key, &pki_.root, pki_.root_key);
  Key impostor_key = Key::Generate();
  Cert impostor = Issue({.common_name = "pinion Test Intermediate", .is_ca = true}, impostor_key, &pki_.rogue_root,
                        pki_.rogue_root_key);
  Key leaf_key = Key::Generate();
  Cert leaf = Issue({.common_name = kHost, .dns_names = {kHost}}, leaf_key, &impostor, impostor_key);
  int akid = X509_get_ext_by_NID(leaf.x509.get(), NID_authority_key_identifier, -1);
  ASSERT_GE(akid, 0);
  X509_EXTENSION_free(X509_delete_ext(leaf.x509.get(), akid));
  ASSERT_GT(X509_sign(leaf.x509.get(), impostor_key.pkey.get(), EVP_sha256()), 0);
  LoopbackTlsServer confusing({.chain_pem = leaf.Pem() + stale_genuine.Pem() + impostor.Pem(),
                               .key_pem = leaf_key.PrivatePem(),
                               .reply = kHttpReply});
  ExportModule(kHost, "report_uri = [\"" + CollectorUri() + "\"]\n", {pki_.intermediate_key.SpkiPin()});
  Json run = Node({{"form", "agent"}, {"port", confusing.port()}, {"ca", Ca("trust.pem")}});
  ASSERT_EQ(run["results"].size(), 1u);
  EXPECT_EQ(run["results"][0]["code"], "ERR_PINION_PIN_MISMATCH") << run.dump();
  // The report shows why: Node linked the leaf to the genuine intermediate
  // (served chain), whose key did not sign it; the impostor that did is not
  // exposed by Node, so the chain the module can prove is the leaf alone.
  auto stored = Stored();
  ASSERT_EQ(stored.size(), 1u) << run.dump();
  EXPECT_EQ(stored[0].chain_pins, (std::vector<std::string>{leaf_key.SpkiPin().ToString()}));
  auto body = collector_->store().Body(stored[0].id);
  ASSERT_TRUE(body.ok() && body->has_value());
  auto report = ParseReport(**body);
  ASSERT_TRUE(report.ok());
  ASSERT_GE(report->served_certificate_chain.size(), 2u);
  EXPECT_EQ(report->served_certificate_chain[1], stale_genuine.Pem());
}

TEST_F(NodeExportTest, ReportOnlyAcceptsAndTheCollectorStoresOneReportInPinionsFormat) {
  ExportModule(kHost, "mode = \"report-only\"\nreport_uri = [\"" + CollectorUri() + "\"]\n", GenuinePins());
  Json run = Node({{"form", "agent"}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")}, {"count", 5}});
  ASSERT_EQ(run["results"].size(), 5u);
  for (const Json& result : run["results"]) EXPECT_EQ(result["result"], "accepted") << run.dump();
  // The same failure is reported once per dedupe window.
  EXPECT_EQ(Count(run["events"], "delivered"), 1u) << run.dump();
  EXPECT_EQ(Count(run["events"], "duplicate"), 4u);

  auto stored = Stored();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].format, "pinion");
  EXPECT_EQ(stored[0].reason, "report-only-mismatch");
  EXPECT_EQ(stored[0].mode, "report-only");
  EXPECT_EQ(stored[0].port, rogue_.port());
  EXPECT_EQ(stored[0].policy_version, 7u);
  EXPECT_EQ(stored[0].app.id, "com.example.node");
  auto body = collector_->store().Body(stored[0].id);
  ASSERT_TRUE(body.ok() && body->has_value());
  auto report = ParseReport(**body);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->hostname, kHost);
  EXPECT_EQ(report->noted_hostname, kHost);
  EXPECT_EQ(report->known_pins, GenuinePins());
  EXPECT_EQ(report->validated_chain_pins,
            (std::vector<Pin>{pki_.rogue_leaf_key.SpkiPin(), pki_.rogue_intermediate_key.SpkiPin(),
                              pki_.rogue_root_key.SpkiPin()}));
  EXPECT_EQ(report->validated_certificate_chain,
            (std::vector<std::string>{pki_.rogue_leaf.Pem(), pki_.rogue_intermediate.Pem(), pki_.rogue_root.Pem()}));
}

TEST_F(NodeExportTest, TheHostRateLimitBoundsReports) {
  ExportModule(kHost, "mode = \"report-only\"\nreport_uri = [\"" + CollectorUri() + "\"]\n", GenuinePins());
  Json run = Node({{"form", "check"},
                   {"port", rogue_.port()},
                   {"ca", Ca("trust.pem")},
                   {"count", 8},
                   {"reports", {{"dedupeWindowMs", 0}, {"hostBurst", 3}, {"hostReportsPerHour", 0}}}});
  EXPECT_EQ(Count(run["events"], "delivered"), 3u) << run.dump();
  EXPECT_EQ(Count(run["events"], "rate-limited"), 5u);
  EXPECT_EQ(Stored().size(), 3u);
}

TEST_F(NodeExportTest, ASilentCollectorDoesNotDelayTheConnection) {
  SilentListener silent;
  ExportModule(kHost,
               "mode = \"report-only\"\nreport_uri = [\"https://127.0.0.1:" + std::to_string(silent.port()) +
                   "/v1/reports\"]\n",
               GenuinePins());
  Json run = Node({{"form", "agent"}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")},
                   {"reports", {{"timeoutMs", 2000}}}});
  ASSERT_EQ(run["results"].size(), 1u);
  EXPECT_EQ(run["results"][0]["result"], "accepted");
  EXPECT_LT(run["results"][0]["ms"].get<double>(), 1000.0) << run.dump();
  EXPECT_EQ(Count(run["events"], "send-failed"), 1u) << run.dump();  // given up after the timeout
}

// A collector (or a man in the middle holding a certificate the module
// trusts) that trickles its answer resets an idle timeout with every byte;
// the upload's absolute deadline still ends it, and flushReports returns.
TEST_F(NodeExportTest, ATricklingCollectorIsCutOffAtTheDeadline) {
  LoopbackTlsServer trickling({.chain_pem = collector_leaf_.Pem(),
                               .key_pem = collector_key_.PrivatePem(),
                               .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                               .reply_byte_interval = std::chrono::milliseconds(250)});
  ExportModule(kHost,
               "mode = \"report-only\"\nreport_uri = [\"https://127.0.0.1:" + std::to_string(trickling.port()) +
                   "/v1/reports\"]\n",
               GenuinePins());
  auto start = std::chrono::steady_clock::now();
  Json run = Node({{"form", "agent"}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")},
                   {"reports", {{"timeoutMs", 1500}}}});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(run["results"].size(), 1u);
  EXPECT_EQ(run["results"][0]["result"], "accepted");
  EXPECT_EQ(Count(run["events"], "send-failed"), 1u) << run.dump();
  // The whole reply takes ~10 s to trickle; the deadline is 1.5 s (node's start-up adds a little).
  EXPECT_LT(took, std::chrono::seconds(6)) << run.dump();
}

// Node's own name check strips trailing dots more than once; the module must
// refuse "api.example.test.." (as pinion does) rather than find no rule for
// it and leave it unpinned.
TEST_F(NodeExportTest, AHostWithTwoTrailingDotsIsNotLeftUnpinned) {
  ExportModule(kHost, "", GenuinePins());
  for (const char* form : {"check", "agentOptions", "agent"}) {
    SCOPED_TRACE(form);
    Json run = Node({{"form", form}, {"host", std::string(kHost) + ".."}, {"port", rogue_.port()},
                     {"ca", Ca("trust.pem")}});
    ASSERT_EQ(run["results"].size(), 1u);
    EXPECT_EQ(run["results"][0]["result"], "rejected") << run.dump();
  }
}

TEST_F(NodeExportTest, PlainHttpReportUrisAreNotUsed) {
  ExportModule(kHost, "mode = \"report-only\"\nreport_uri = [\"http://127.0.0.1:" + std::to_string(collector_port_) +
                          "/v1/reports\"]\n",
               GenuinePins());
  Json run = Node({{"form", "check"}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")}});
  EXPECT_EQ(run["results"][0]["result"], "accepted");
  EXPECT_TRUE(run["events"].empty()) << run.dump();
  EXPECT_TRUE(Stored().empty());
}

TEST_F(NodeExportTest, AnchorsReplaceTheDefaultCas) {
  ExportModule(kHost, "anchors = \"" + Ca("root.pem") + "\"\n",
               {pki_.leaf_key.SpkiPin(), pki_.rogue_leaf_key.SpkiPin()});
  // createAgent without `ca`: the rule's anchors are the CAs.
  EXPECT_EQ(Node({{"form", "agent"}, {"port", legit_.port()}})["results"][0]["result"], "accepted");
  Json rogue = Node({{"form", "agent"}, {"port", rogue_.port()}});
  EXPECT_EQ(rogue["results"][0]["result"], "rejected");
  EXPECT_EQ(rogue["results"][0]["code"], "UNABLE_TO_GET_ISSUER_CERT_LOCALLY") << rogue.dump();
  // checkServerIdentity alone, with a `ca` that trusts the rogue root too:
  // the chain must still reach the rule's anchors (the rogue leaf is pinned).
  Json alone = Node({{"form", "check"}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")}});
  EXPECT_EQ(alone["results"][0]["code"], "ERR_PINION_UNTRUSTED_ANCHOR") << alone.dump();
}

TEST_F(NodeExportTest, ExpiryFailsOpenOnlyWithOnExpiryAllow) {
  ExportModule(kHost, "expires = 2020-01-01\nreport_uri = [\"" + CollectorUri() + "\"]\n", GenuinePins());
  Json open = Node({{"form", "check"}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")}});
  EXPECT_EQ(open["results"][0]["result"], "accepted") << open.dump();
  auto stored = Stored();
  ASSERT_EQ(stored.size(), 1u) << open.dump();
  EXPECT_EQ(stored[0].reason, "policy-expired");

  ExportModule(kHost, "expires = 2020-01-01\non_expiry = \"enforce\"\n", GenuinePins());
  Json enforced = Node({{"form", "check"}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")}});
  EXPECT_EQ(enforced["results"][0]["code"], "ERR_PINION_PIN_MISMATCH") << enforced.dump();
}

TEST_F(NodeExportTest, CertificatePinsAreChecked) {
  // Certificate and SHA-384 pins: other exports drop them, the module checks them.
  ExportModule(kHost, "", {pki_.intermediate.CertificatePin(), pki_.backup_key.SpkiPin()});
  EXPECT_EQ(Node({{"form", "check"}, {"port", legit_.port()}, {"ca", Ca("trust.pem")}})["results"][0]["result"],
            "accepted");
  EXPECT_EQ(Node({{"form", "check"}, {"port", rogue_.port()}, {"ca", Ca("trust.pem")}})["results"][0]["code"],
            "ERR_PINION_PIN_MISMATCH");
}

}  // namespace
}  // namespace pinion::tooling
