// Real OpenSSL handshakes on 127.0.0.1 against the loopback test server.
#include "pinion/openssl/enforcer.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <atomic>
#include <thread>

#include "pinion/dynamic/dynamic_policy.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"
#include "pinion/tooling/tls_client.h"
#include "pinion/tooling/manifest_signing.h"
#include "tls_server.h"

namespace pinion::openssl {
namespace {

using testing::Cert;
using testing::Key;
using testing::LoopbackTlsServer;
using testing::TempDir;
using testing::TestPki;

constexpr char kHost[] = "api.example.test";

class EnforcerTest : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create(kHost)); }
  static void TearDownTestSuite() { delete pki_; }

  int tls_version() const { return GetParam(); }

  std::unique_ptr<LoopbackTlsServer> StartServer(const std::string& chain_pem, const Key& key) {
    return std::make_unique<LoopbackTlsServer>(LoopbackTlsServer::Options{
        .chain_pem = chain_pem, .key_pem = key.PrivatePem(), .max_version = tls_version()});
  }

  // The client trusts BOTH the legitimate root and the rogue root: the rogue
  // CA is in the device trust store (a compromised or coerced CA).
  openssl::UniquePtr<SSL_CTX> ClientContext(std::vector<const Cert*> roots = {}) {
    if (roots.empty()) roots = {&pki_->root, &pki_->rogue_root};
    openssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_max_proto_version(ctx.get(), tls_version());
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (const Cert* root : roots) X509_STORE_add_cert(store, root->x509.get());
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT);
    return ctx;
  }

  PolicySnapshot Policy(const std::string& domains, std::uint64_t version = 1) {
    auto policy = ParsePolicyToml("[policy]\nversion = " + std::to_string(version) + "\n" + domains, "test.toml",
                                  {.base_directory = dir_.path()});
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  static std::string Rule(const std::string& host, const std::vector<Pin>& pins, const std::string& extra = "") {
    std::string out = "[[domain]]\nhost = \"" + host + "\"\n" + extra + "pins = [\n";
    for (const Pin& pin : pins) out += "  { pin = \"" + pin.ToString() + "\" },\n";
    return out + "]\n";
  }

  // PinnedClient: a client context with an enforcer over its own policy store
  // (members destroyed in reverse order: the context before the enforcer).
  struct PinnedClient {
    PolicyStore store;
    std::unique_ptr<Enforcer> enforcer;
    openssl::UniquePtr<SSL_CTX> ctx;
  };
  std::unique_ptr<PinnedClient> MakeClient(PolicySnapshot policy, EnforcerOptions options = {},
                                           std::vector<const Cert*> roots = {}) {
    auto client = std::make_unique<PinnedClient>();
    client->store.Swap(std::move(policy));
    client->enforcer = *Enforcer::Create(client->store, std::move(options));
    client->ctx = ClientContext(std::move(roots));
    EXPECT_TRUE(client->enforcer->Install(client->ctx.get()).ok());
    return client;
  }
  tooling::TlsClientResult Connect(PinnedClient& client, std::uint16_t port, const std::string& host = kHost,
                               SSL_SESSION* resume = nullptr) {
    return Connect(client.ctx.get(), client.enforcer.get(), port, host, resume);
  }
  tooling::TlsClientResult Connect(SSL_CTX* ctx, Enforcer* enforcer, std::uint16_t port,
                               const std::string& host = kHost, SSL_SESSION* resume = nullptr) {
    auto result = tooling::ConnectTls({.host = host, .port = port, .connect_to = "127.0.0.1",
                                   .timeout = std::chrono::seconds(5), .ctx = ctx,
                                   .enforcer = enforcer, .resume = resume, .read_reply = true});
    EXPECT_TRUE(result.ok()) << result.error().ToString();
    return std::move(*result);
  }

  static TestPki* pki_;
  TempDir dir_;
};
TestPki* EnforcerTest::pki_ = nullptr;

TEST_P(EnforcerTest, LegitimateChainIsAccepted) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  auto client = MakeClient(Policy(Rule(kHost, {pki_->leaf_key.SpkiPin(), pki_->backup_key.SpkiPin()})));
  auto result = Connect(*client, server->port());
  EXPECT_TRUE(result.handshake_ok) << result.error;
  ASSERT_NE(result.verdict, nullptr);
  EXPECT_EQ(result.verdict->reason, VerdictReason::kMatched);
  EXPECT_EQ(result.reply, "hello from pinion test server\n");
  // The validated chain ends at the root from the store, which the server never sent.
  ASSERT_EQ(result.validated_chain.size(), 3u);
  EXPECT_EQ(result.served_chain.size(), 2u);
  EXPECT_EQ(result.verdict->chain_pins[2].spki_sha256, pki_->root.SpkiPin());
}

TEST_P(EnforcerTest, RogueCaTrustedByTheClientIsRejectedByPins) {
  auto server = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  PolicyStore store(Policy(Rule(kHost, {pki_->leaf_key.SpkiPin(), pki_->backup_key.SpkiPin()})));
  std::vector<Verdict> seen;
  auto enforcer = *Enforcer::Create(store, {.on_verdict = [&](const Verdict& v) { seen.push_back(v); }});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());

  // Without pinion the handshake succeeds: the rogue root is trusted.
  auto plain_ctx = ClientContext();
  SSL_CTX_set_verify(plain_ctx.get(), SSL_VERIFY_PEER, nullptr);
  auto plain = tooling::ConnectTls({.host = kHost, .port = server->port(), .connect_to = "127.0.0.1",
                                .ctx = plain_ctx.get(), .read_reply = true});
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->handshake_ok);
  EXPECT_EQ(plain->verify_result, X509_V_OK);

  auto result = Connect(ctx.get(), enforcer.get(), server->port());
  EXPECT_FALSE(result.handshake_ok);
  EXPECT_EQ(result.verify_result, X509_V_ERR_APPLICATION_VERIFICATION);
  ASSERT_NE(result.verdict, nullptr);
  EXPECT_EQ(result.verdict->decision, Decision::kReject);
  EXPECT_EQ(result.verdict->reason, VerdictReason::kMismatch);
  EXPECT_EQ(result.verdict->served_chain_der.size(), 2u);
  EXPECT_NE(result.verdict->Explain().find("Rogue Intermediate CA"), std::string::npos);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].reason, VerdictReason::kMismatch);
}

TEST_P(EnforcerTest, RotationToTheBackupKeyIsAccepted) {
  Cert backup_leaf = pki_->IssueLeaf(kHost, pki_->backup_key);
  auto server = StartServer(backup_leaf.Pem() + pki_->intermediate.Pem(), pki_->backup_key);
  auto client = MakeClient(Policy(Rule(kHost, {pki_->leaf_key.SpkiPin(), pki_->backup_key.SpkiPin()})));
  auto result = Connect(*client, server->port());
  EXPECT_TRUE(result.handshake_ok) << result.error;
  EXPECT_EQ(result.verdict->reason, VerdictReason::kMatched);
  EXPECT_EQ(*result.verdict->matched_pin_index, 1u);
}

TEST_P(EnforcerTest, LeafRotatedUnderAPinnedIntermediateIsAccepted) {
  Key new_key = Key::Generate();
  Cert new_leaf = pki_->IssueLeaf(kHost, new_key);
  auto server = StartServer(new_leaf.Pem() + pki_->intermediate.Pem(), new_key);
  auto client = MakeClient(Policy(Rule(kHost, {pki_->intermediate.SpkiPin(), pki_->backup_key.SpkiPin()})));
  auto result = Connect(*client, server->port());
  EXPECT_TRUE(result.handshake_ok) << result.error;
  EXPECT_EQ(result.verdict->matched_chain_index, 1u);
}

// CVE-2016-2402 (OkHttp): the attacker appends the pinned certificates to a
// chain from a CA the client trusts. Pins are checked on the chain OpenSSL
// built, so the appended certificates never count.
TEST_P(EnforcerTest, PinnedCertificatesAppendedToARogueChainAreRejected) {
  std::string chain = pki_->rogue_leaf.Pem() + pki_->rogue_intermediate.Pem() +
                      pki_->intermediate.Pem() + pki_->root.Pem() + pki_->leaf.Pem();
  auto server = StartServer(chain, pki_->rogue_leaf_key);
  PolicyStore store(Policy(Rule(kHost, {pki_->intermediate.SpkiPin(), pki_->root.SpkiPin(),
                                        pki_->leaf_key.SpkiPin()})));
  auto enforcer = *Enforcer::Create(store);
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  auto result = Connect(ctx.get(), enforcer.get(), server->port());
  EXPECT_FALSE(result.handshake_ok);
  ASSERT_NE(result.verdict, nullptr);
  EXPECT_EQ(result.verdict->reason, VerdictReason::kMismatch);
  EXPECT_EQ(result.verdict->served_chain_der.size(), 5u);  // shown, not used
  EXPECT_EQ(result.verdict->chain_pins.size(), 3u);
}

TEST_P(EnforcerTest, WrongHostnameIsRejectedByTlsItselfNotByPins) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  auto client = MakeClient(Policy(Rule("**.example.test", {pki_->leaf_key.SpkiPin()})));
  auto result = Connect(*client, server->port(), "www.example.test");
  EXPECT_FALSE(result.handshake_ok);
  EXPECT_EQ(result.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(result.verdict, nullptr);  // pins were never consulted
}

TEST_P(EnforcerTest, ExpiredPolicyAllowsWithAPolicyExpiredVerdict) {
  auto server = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  PolicyStore store(Policy(Rule(kHost, {pki_->leaf_key.SpkiPin()}, "expires = 2027-06-01\n")));
  FixedClock clock(*ParseTimestamp("2027-06-02"));
  auto enforcer = *Enforcer::Create(store, {.clock = &clock});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  auto result = Connect(ctx.get(), enforcer.get(), server->port());
  EXPECT_TRUE(result.handshake_ok) << result.error;
  EXPECT_EQ(result.verdict->reason, VerdictReason::kPolicyExpired);
  clock.Set(*ParseTimestamp("2027-05-31"));
  auto before = Connect(ctx.get(), enforcer.get(), server->port());
  EXPECT_FALSE(before.handshake_ok);
  EXPECT_EQ(before.verdict->reason, VerdictReason::kMismatch);
}

TEST_P(EnforcerTest, ReportOnlyAllowsWithAMismatchVerdict) {
  auto server = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  auto client = MakeClient(Policy(Rule(kHost, {pki_->leaf_key.SpkiPin()}, "mode = \"report-only\"\n")));
  auto result = Connect(*client, server->port());
  EXPECT_TRUE(result.handshake_ok) << result.error;
  EXPECT_EQ(result.verdict->reason, VerdictReason::kReportOnlyMismatch);
  EXPECT_EQ(result.verdict->served_chain_der.size(), 2u);
}

TEST_P(EnforcerTest, UnpinnedHostIsAllowed) {
  auto server = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  auto client = MakeClient(Policy(Rule("other.example.test", {pki_->leaf_key.SpkiPin()})));
  auto result = Connect(*client, server->port());
  EXPECT_TRUE(result.handshake_ok) << result.error;
  EXPECT_EQ(result.verdict->reason, VerdictReason::kNotPinned);
}

TEST_P(EnforcerTest, SubdomainAndWildcardRulesApplyInHandshakes) {
  const std::string deep = "a.b.example.test";
  Key key = Key::Generate();
  Cert rogue_deep = testing::Issue({.common_name = deep, .dns_names = {deep}}, key,
                                   &pki_->rogue_intermediate, pki_->rogue_intermediate_key);
  auto server = StartServer(rogue_deep.Pem() + pki_->rogue_intermediate.Pem(), key);
  auto ctx = ClientContext();
  {
    PolicyStore store(Policy(Rule("example.test", {pki_->leaf_key.SpkiPin()}, "include_subdomains = true\n")));
    auto enforcer = *Enforcer::Create(store);
    ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
    auto result = Connect(ctx.get(), enforcer.get(), server->port(), deep);
    EXPECT_FALSE(result.handshake_ok);
    EXPECT_EQ(result.verdict->reason, VerdictReason::kMismatch);
  }
  auto ctx2 = ClientContext();
  PolicyStore store(Policy(Rule("*.example.test", {pki_->leaf_key.SpkiPin()})));
  auto enforcer = *Enforcer::Create(store);
  ASSERT_TRUE(enforcer->Install(ctx2.get()).ok());
  auto result = Connect(ctx2.get(), enforcer.get(), server->port(), deep);
  EXPECT_TRUE(result.handshake_ok) << result.error;  // two labels deeper: not covered by "*."
  EXPECT_EQ(result.verdict->reason, VerdictReason::kNotPinned);
}

// Resumption carries no chain: the decision is tied to the session and the
// policy snapshot, and a session is not offered once the snapshot changed.
TEST_P(EnforcerTest, ResumptionNeverSkipsThePinCheck) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  auto pinned_ok = Policy(Rule(kHost, {pki_->leaf_key.SpkiPin()}), 1);
  auto client = MakeClient(pinned_ok);

  auto first = Connect(*client, server->port());
  ASSERT_TRUE(first.handshake_ok) << first.error;
  ASSERT_NE(first.session, nullptr);
  ASSERT_TRUE(SSL_SESSION_is_resumable(first.session.get()));

  // Same policy: resumption is allowed and the carried-over verdict says so.
  auto resumed = Connect(*client, server->port(), kHost, first.session.get());
  ASSERT_TRUE(resumed.handshake_ok) << resumed.error;
  EXPECT_TRUE(resumed.resumed);
  ASSERT_NE(resumed.verdict, nullptr);
  EXPECT_TRUE(resumed.verdict->resumed_session);
  EXPECT_EQ(resumed.verdict->reason, VerdictReason::kMatched);
  int resumed_before = server->resumed_handshakes();
  EXPECT_GE(resumed_before, 1);

  // New policy pinning a different key: the old session must not resume.
  client->store.Swap(Policy(Rule(kHost, {pki_->backup_key.SpkiPin()}), 2));
  auto after_swap = Connect(*client, server->port(), kHost, first.session.get());
  EXPECT_FALSE(after_swap.resumed);
  EXPECT_FALSE(after_swap.handshake_ok);
  ASSERT_NE(after_swap.verdict, nullptr);
  EXPECT_EQ(after_swap.verdict->reason, VerdictReason::kMismatch);
  EXPECT_EQ(server->resumed_handshakes(), resumed_before);

  // A session for one host is never resumed for another.
  client->store.Swap(Policy(Rule("**.example.test", {pki_->leaf_key.SpkiPin()}), 3));
  auto fresh = Connect(*client, server->port());
  ASSERT_TRUE(fresh.handshake_ok) << fresh.error;
  Cert other_leaf = testing::Issue({.common_name = "x", .dns_names = {kHost, "other.example.test"}},
                                   pki_->leaf_key, &pki_->intermediate, pki_->intermediate_key);
  auto other = Connect(*client, server->port(), "other.example.test", fresh.session.get());
  EXPECT_FALSE(other.resumed);
}

TEST_P(EnforcerTest, PerHostAnchorsReplaceTheTrustStoreForThatHostOnly) {
  dir_.Write("anchors.pem", pki_->root.Pem());
  auto legit = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  // Pins that would match anything of either chain: only anchors decide here.
  PolicyStore store(Policy(Rule(kHost,
                                {pki_->leaf_key.SpkiPin(), pki_->rogue_leaf_key.SpkiPin()},
                                "anchors = \"anchors.pem\"\n")));
  auto enforcer = *Enforcer::Create(store);
  auto ctx = ClientContext({&pki_->rogue_root});  // the store trusts only the rogue root
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  auto ok = Connect(ctx.get(), enforcer.get(), legit->port());
  EXPECT_TRUE(ok.handshake_ok) << ok.error;
  auto bad = Connect(ctx.get(), enforcer.get(), rogue->port());
  EXPECT_FALSE(bad.handshake_ok);
  EXPECT_EQ(bad.verify_result, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(bad.verdict, nullptr);  // failed validation, before pins
}

TEST_P(EnforcerTest, DebugProxyOverrideIsExplicitAndLoud) {
  auto server = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  PolicyStore store(Policy(Rule(kHost, {pki_->leaf_key.SpkiPin()})));
  Pin proxy = pki_->rogue_root.SpkiPin();
  DebugProxyOverride debug{std::span<const Pin>(&proxy, 1)};
  std::vector<std::string> logs;
  auto enforcer = *Enforcer::Create(
      store, {.debug_override = &debug, .log = [&](std::string_view m) { logs.emplace_back(m); }});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  auto result = Connect(ctx.get(), enforcer.get(), server->port());
  EXPECT_TRUE(result.handshake_ok) << result.error;
  EXPECT_EQ(result.verdict->reason, VerdictReason::kDebugOverride);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].find("BYPASSED"), std::string::npos);
}

TEST_P(EnforcerTest, MisuseFailsClosed) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  PolicyStore store(Policy(Rule(kHost, {pki_->leaf_key.SpkiPin()})));
  std::vector<std::string> logs;
  auto enforcer = *Enforcer::Create(store, {.log = [&](std::string_view m) { logs.emplace_back(m); }});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  EXPECT_EQ(enforcer->Install(ctx.get()).error().code(), ErrorCode::kTlsSetup);

  // No PrepareConnection: no host to pin for, so the handshake fails.
  auto unprepared = tooling::ConnectTls({.host = kHost, .port = server->port(), .connect_to = "127.0.0.1",
                                     .ctx = ctx.get(), .enforcer = nullptr});
  ASSERT_TRUE(unprepared.ok());
  EXPECT_FALSE(unprepared->handshake_ok);
  EXPECT_FALSE(logs.empty());

  // Verification switched off by the application after PrepareConnection is switched back on.
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  openssl::UniquePtr<SSL_CTX> lax = ClientContext();
  ASSERT_TRUE(enforcer->Install(lax.get()).ok());
  SSL_CTX_set_verify(lax.get(), SSL_VERIFY_NONE, nullptr);
  auto result = Connect(lax.get(), enforcer.get(), rogue->port());
  EXPECT_FALSE(result.handshake_ok);
  EXPECT_EQ(result.verdict->reason, VerdictReason::kMismatch);
}

// Handshakes on several threads while the policy flips between a snapshot
// that pins the server's key and one that does not: every verdict must be the
// one its own snapshot (policy_version) dictates. Runs under ThreadSanitizer in CI.
TEST_P(EnforcerTest, ConcurrentHandshakesWithPolicySwaps) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  PolicySnapshot accept = Policy(Rule(kHost, {pki_->leaf_key.SpkiPin()}), 1);
  PolicySnapshot reject = Policy(Rule(kHost, {pki_->backup_key.SpkiPin()}), 2);
  auto client = MakeClient(accept);
  constexpr int kThreads = 3, kPerThread = 12;
  std::atomic<int> finished{0}, inconsistent{0}, accepted{0}, rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto result = tooling::ConnectTls({.host = kHost, .port = server->port(), .connect_to = "127.0.0.1",
                                       .timeout = std::chrono::seconds(5), .ctx = client->ctx.get(),
                                       .enforcer = client->enforcer.get()});
        if (!result.ok() || result->verdict == nullptr) {
          ++inconsistent;
        } else {
          bool should_accept = result->verdict->policy_version == 1;
          if (result->handshake_ok != should_accept) ++inconsistent;
          ++(result->handshake_ok ? accepted : rejected);
        }
        ++finished;
      }
    });
  }
  // Bounded: stops when every handshake is done (or after a fixed number of swaps).
  for (long swaps = 0; finished.load() < kThreads * kPerThread && swaps < 10'000'000; ++swaps) {
    client->store.Swap(swaps % 2 ? accept : reject);
    std::this_thread::yield();
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_EQ(accepted.load() + rejected.load(), kThreads * kPerThread);
}

// Dynamic pinning under load: manifests arrive (and are written to disk)
// while handshakes run on other threads. Even versions pin the leaf key; odd
// ones pin only the backup key under a signed kill switch. Every handshake
// must see one whole snapshot: its verdict's reason matches its version.
TEST_P(EnforcerTest, ConcurrentHandshakesWhileManifestsArrive) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  Key signer = Key::Generate(testing::KeyKind::kEd25519);
  Key backup_signer = Key::Generate(testing::KeyKind::kEd25519);
  TimePoint now = SystemClock::Instance().Now();
  constexpr int kManifests = 24;
  std::vector<std::string> manifests;
  for (std::uint64_t version = 2; version < 2 + kManifests; ++version) {
    bool even = version % 2 == 0;
    PolicySnapshot policy = Policy(Rule(kHost, {even ? pki_->leaf_key.SpkiPin() : pki_->backup_key.SpkiPin()}), version);
    if (!even) {
      std::vector<DomainRule> rules(policy->rules().begin(), policy->rules().end());
      policy = *Policy::Create(version, std::move(rules),
                               EnforcementOverride{OverrideMode::kDisabled, {}, now + std::chrono::hours(24)});
    }
    auto payload = *ManifestPayloadJson(*policy, {now - std::chrono::hours(1), now + std::chrono::hours(24)});
    std::vector<std::uint8_t> bytes(payload.begin(), payload.end());
    manifests.push_back(SerializeDsseEnvelope(*SignDsse(kManifestPayloadType, bytes, {signer.PrivatePem()})));
  }
  auto dynamic = *DynamicPolicy::Create(Policy(Rule(kHost, {pki_->leaf_key.SpkiPin()}), 1),
                                        {*TrustedKeyFromPem(signer.PublicPem()),
                                         *TrustedKeyFromPem(backup_signer.PublicPem())},
                                        dir_.path() / "dynamic-state");
  auto enforcer = *Enforcer::Create(dynamic->store());
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());

  constexpr int kThreads = 3, kPerThread = 12;
  std::atomic<int> finished{0}, inconsistent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto result = tooling::ConnectTls({.host = kHost, .port = server->port(), .connect_to = "127.0.0.1",
                                       .timeout = std::chrono::seconds(5), .ctx = ctx.get(),
                                       .enforcer = enforcer.get()});
        if (!result.ok() || result->verdict == nullptr || !result->handshake_ok) {
          ++inconsistent;
        } else {
          std::uint64_t version = result->verdict->policy_version;
          VerdictReason expected = version == 1 || version % 2 == 0 ? VerdictReason::kMatched : VerdictReason::kKillSwitch;
          if (result->verdict->reason != expected) ++inconsistent;
        }
        ++finished;
      }
    });
  }
  int offered = 0;
  for (const std::string& manifest : manifests) {
    if (finished.load() >= kThreads * kPerThread) break;
    EXPECT_TRUE(dynamic->Offer(manifest, "test").ok());
    ++offered;
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_GT(offered, 0);
  EXPECT_EQ(dynamic->active_version(), 1u + static_cast<std::uint64_t>(offered));
}

INSTANTIATE_TEST_SUITE_P(Tls, EnforcerTest, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION),
                         [](const ::testing::TestParamInfo<int>& param_info) { return param_info.param == TLS1_3_VERSION ? "Tls13" : "Tls12"; });

// Offline: a chain from a file is validated for the host at a given time, then pinned.
class CheckChainTest : public ::testing::Test {
 protected:
  void SetUp() override { pki_ = std::make_unique<TestPki>(TestPki::Create(kHost)); }
  std::unique_ptr<TestPki> pki_;
};

TEST_F(CheckChainTest, ValidatesThenPins) {
  auto policy = ParsePolicyToml("[policy]\nversion = 1\n[[domain]]\nhost = \"" + std::string(kHost) +
                                    "\"\npins = [{pin = \"" + pki_->intermediate.SpkiPin().ToString() + "\"}]\n",
                                "p.toml");
  ASSERT_TRUE(policy.ok());
  PolicyStore store(*policy);
  auto enforcer = *Enforcer::Create(store);
  openssl::UniquePtr<X509_STORE> trust(X509_STORE_new());
  X509_STORE_add_cert(trust.get(), pki_->root.x509.get());
  X509_STORE_add_cert(trust.get(), pki_->rogue_root.x509.get());
  TimePoint now = SystemClock::Instance().Now();

  auto good = enforcer->CheckChain({pki_->leaf.Der(), pki_->intermediate.Der()}, kHost, 443, now, trust.get());
  ASSERT_TRUE(good.validation.ok()) << good.validation.error().ToString();
  EXPECT_EQ(good.verdict->reason, VerdictReason::kMatched);
  EXPECT_EQ(good.validated_chain_der.size(), 3u);

  auto rogue = enforcer->CheckChain({pki_->rogue_leaf.Der(), pki_->rogue_intermediate.Der()}, kHost, 443, now, trust.get());
  ASSERT_TRUE(rogue.validation.ok());
  EXPECT_EQ(rogue.verdict->reason, VerdictReason::kMismatch);

  auto wrong_host = enforcer->CheckChain({pki_->leaf.Der(), pki_->intermediate.Der()}, "evil.example.test", 443, now, trust.get());
  EXPECT_EQ(wrong_host.validation.error().code(), ErrorCode::kHostnameMismatch);
  EXPECT_FALSE(wrong_host.verdict.has_value());

  auto in_two_years = enforcer->CheckChain({pki_->leaf.Der(), pki_->intermediate.Der()}, kHost, 443,
                                           now + std::chrono::hours(24 * 730), trust.get());
  EXPECT_EQ(in_two_years.validation.error().code(), ErrorCode::kChainValidation);
  EXPECT_NE(in_two_years.validation.error().message().find("expired"), std::string::npos);

  auto missing_intermediate = enforcer->CheckChain({pki_->leaf.Der()}, kHost, 443, now, trust.get());
  EXPECT_EQ(missing_intermediate.validation.error().code(), ErrorCode::kChainValidation);
}

}  // namespace
}  // namespace pinion::openssl
