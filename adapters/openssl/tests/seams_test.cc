// The seams between pinion and OpenSSL, attacked with real handshakes on
// 127.0.0.1 (issue 12): snapshot swaps while anchors are in use, sessions
// resumed past a kill switch, application callbacks that hide failures or
// displace pinion's, CN-only leaves, connections never prepared, and
// connections confirmed again after the policy changed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include "pinion/openssl/enforcer.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"
#include "tls_server.h"

namespace pinion::openssl {
namespace {

using testing::Cert;
using testing::Key;
using testing::LoopbackTlsServer;
using testing::TempDir;
using testing::TestPki;

constexpr char kHost[] = "api.example.test";

// What one client connection saw.
struct Seen {
  bool connected = false;  // SSL_connect returned 1
  long verify_result = X509_V_OK;
  bool resumed = false;
  bool write_ok = false;   // SSL_write after the handshake
  std::string reply;
  std::shared_ptr<const Verdict> verdict;
  bool pin_failure = false;
  openssl::UniquePtr<SSL_SESSION> session;
};

// DialLoopback: a TCP connection to 127.0.0.1:`port` with 5 s timeouts (-1 on failure).
int DialLoopback(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Connect: one TLS connection to 127.0.0.1:`port`. `prepare` runs on the SSL
// before SSL_connect (PrepareConnection, or an attack on it); `after` runs
// once the handshake succeeded, before any byte is written.
Seen Connect(SSL_CTX* ctx, std::uint16_t port, const std::function<void(SSL*)>& prepare,
             SSL_SESSION* resume = nullptr, const std::function<void(SSL*)>& after = {}) {
  Seen seen;
  int fd = DialLoopback(port);
  if (fd < 0) {
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    return seen;
  }
  openssl::UniquePtr<SSL> ssl(SSL_new(ctx));
  SSL_set_fd(ssl.get(), fd);
  if (prepare) prepare(ssl.get());
  if (resume != nullptr) SSL_set_session(ssl.get(), resume);
  seen.connected = SSL_connect(ssl.get()) == 1;
  seen.verify_result = SSL_get_verify_result(ssl.get());
  if (seen.connected) {
    seen.resumed = SSL_session_reused(ssl.get()) == 1;
    if (after) after(ssl.get());
    seen.write_ok = SSL_write(ssl.get(), "GET\n", 4) == 4;
    char buffer[256];
    for (int n; (n = SSL_read(ssl.get(), buffer, sizeof buffer)) > 0;) seen.reply.append(buffer, n);
    seen.session.reset(SSL_get1_session(ssl.get()));
  }
  seen.verdict = Enforcer::VerdictOf(ssl.get());
  seen.pin_failure = Enforcer::IsPinFailure(ssl.get());
  SSL_shutdown(ssl.get());
  close(fd);
  return seen;
}

class SeamsTest : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create(kHost)); }
  static void TearDownTestSuite() { delete pki_; }

  std::unique_ptr<LoopbackTlsServer> StartServer(const std::string& chain_pem, const Key& key) {
    return std::make_unique<LoopbackTlsServer>(LoopbackTlsServer::Options{
        .chain_pem = chain_pem, .key_pem = key.PrivatePem(), .max_version = GetParam()});
  }
  // The client trusts the legitimate AND the rogue root (a coerced CA).
  openssl::UniquePtr<SSL_CTX> ClientContext() {
    openssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_max_proto_version(ctx.get(), GetParam());
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    X509_STORE_add_cert(store, pki_->root.x509.get());
    X509_STORE_add_cert(store, pki_->rogue_root.x509.get());
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT);
    return ctx;
  }
  PolicySnapshot Policy(const std::vector<Pin>& pins, std::uint64_t version = 1, const std::string& extra = "",
                        const std::string& host = kHost) {
    std::string toml = "[policy]\nversion = " + std::to_string(version) + "\n[[domain]]\nhost = \"" + host +
                       "\"\n" + extra + "pins = [\n";
    for (const Pin& pin : pins) toml += "  { pin = \"" + pin.ToString() + "\" },\n";
    auto policy = ParsePolicyToml(toml + "]\n", "seams.toml", {.base_directory = dir_.path()});
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  static PolicySnapshot WithKillSwitch(const PolicySnapshot& policy, std::uint64_t version, TimePoint until) {
    std::vector<DomainRule> rules(policy->rules().begin(), policy->rules().end());
    return *Policy::Create(version, std::move(rules), EnforcementOverride{OverrideMode::kDisabled, {}, until});
  }
  std::function<void(SSL*)> Prepare(Enforcer& enforcer, const std::string& host = kHost) {
    return [&enforcer, host](SSL* ssl) { ASSERT_TRUE(enforcer.Prepare(ssl, host, 443).ok()); };
  }

  static TestPki* pki_;
  TempDir dir_;
};
TestPki* SeamsTest::pki_ = nullptr;

// Finding 1: three threads validate against per-host anchors while a fourth
// swaps two snapshots that both carry anchors. The anchors a verification
// uses must stay alive until it ends (ASan, TSan in CI).
TEST_P(SeamsTest, ConcurrentAnchorSwapsKeepAnchorsAlive) {
  dir_.Write("anchors.pem", pki_->root.Pem());
  PolicySnapshot first = Policy({pki_->leaf_key.SpkiPin()}, 1, "anchors = \"anchors.pem\"\n");
  PolicySnapshot second = Policy({pki_->intermediate.SpkiPin()}, 2, "anchors = \"anchors.pem\"\n");
  PolicyStore store(first);
  auto enforcer = *Enforcer::Create(store);
  openssl::UniquePtr<X509_STORE> trust(X509_STORE_new());  // empty: only the anchors can validate
  TimePoint now = SystemClock::Instance().Now();
  constexpr int kThreads = 3, kChecks = 150;
  std::atomic<int> finished{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kChecks; ++i) {
        ChainCheck check = enforcer->CheckChain({pki_->leaf.Der(), pki_->intermediate.Der()}, kHost, 443, now,
                                                trust.get());
        if (!check.validation.ok() || check.verdict->reason != VerdictReason::kMatched) ++wrong;
      }
      ++finished;
    });
  }
  for (long swaps = 0; finished.load() < kThreads && swaps < 5'000'000; ++swaps) {
    store.Swap(swaps % 2 ? first : second);
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// Finding 4: a chain allowed only by a signed kill switch must not be
// resumed once the kill switch's `until` has passed.
TEST_P(SeamsTest, KillSwitchDecisionIsNotResumedPastUntil) {
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  TimePoint start = SystemClock::Instance().Now();
  FixedClock clock(start);
  PolicyStore store(WithKillSwitch(Policy({pki_->leaf_key.SpkiPin()}), 2, start + std::chrono::hours(1)));
  auto enforcer = *Enforcer::Create(store, {.clock = &clock});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());

  Seen first = Connect(ctx.get(), rogue->port(), Prepare(*enforcer));
  ASSERT_TRUE(first.connected);
  ASSERT_EQ(first.verdict->reason, VerdictReason::kKillSwitch);
  ASSERT_NE(first.session, nullptr);

  clock.Set(start + std::chrono::minutes(30));  // within the bound: resumption is fine
  Seen within = Connect(ctx.get(), rogue->port(), Prepare(*enforcer), first.session.get());
  ASSERT_TRUE(within.connected);
  EXPECT_TRUE(within.resumed);
  EXPECT_EQ(within.verdict->reason, VerdictReason::kKillSwitch);
  EXPECT_TRUE(within.verdict->resumed_session);

  clock.Set(start + std::chrono::hours(1));  // `until` reached: enforcement is back
  for (SSL_SESSION* session : {first.session.get(), within.session.get()}) {
    Seen after = Connect(ctx.get(), rogue->port(), Prepare(*enforcer), session);
    EXPECT_FALSE(after.connected);
    EXPECT_FALSE(after.resumed);
    ASSERT_NE(after.verdict, nullptr);
    EXPECT_EQ(after.verdict->reason, VerdictReason::kMismatch);
    EXPECT_FALSE(after.verdict->resumed_session);
  }
}

// Finding 7: an SSL whose context never had InstallOn would run unpinned.
TEST_P(SeamsTest, PrepareConnectionRefusesAContextWithoutInstallOn) {
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store);
  auto other = *Enforcer::Create(store);
  auto bare = ClientContext();
  openssl::UniquePtr<SSL> ssl(SSL_new(bare.get()));
  EXPECT_EQ(enforcer->Prepare(ssl.get(), kHost, 443).error().code(), ErrorCode::kTlsSetup);
  auto foreign = ClientContext();
  ASSERT_TRUE(other->Install(foreign.get()).ok());
  openssl::UniquePtr<SSL> foreign_ssl(SSL_new(foreign.get()));
  EXPECT_EQ(enforcer->Prepare(foreign_ssl.get(), kHost, 443).error().code(), ErrorCode::kTlsSetup);
  EXPECT_TRUE(other->Prepare(foreign_ssl.get(), kHost, 443).ok());
}

int ClearEveryError(int, X509_STORE_CTX* store_ctx) {
  X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
  return 1;
}
int ReturnOneKeepError(int, X509_STORE_CTX*) { return 1; }

// Finding 8: a leaf forged under the genuine (pinned) intermediate's name
// fails its signature check; an application verify callback that clears the
// error or returns 1 must not turn that into a pin match.
TEST_P(SeamsTest, VerifyCallbackCannotHideAValidationFailure) {
  Key forged_key = Key::Generate();
  Key wrong_signer = Key::Generate();
  Cert forged = testing::Issue({.common_name = kHost, .dns_names = {kHost}}, forged_key, &pki_->intermediate,
                               wrong_signer);
  auto server = StartServer(forged.Pem() + pki_->intermediate.Pem(), forged_key);
  PolicyStore store(Policy({pki_->intermediate.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store, {.log = [](std::string_view) {}});
  for (SSL_verify_cb callback : {&ClearEveryError, &ReturnOneKeepError}) {
    auto ctx = ClientContext();
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, callback);
    ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
    Seen seen = Connect(ctx.get(), server->port(), Prepare(*enforcer));
    EXPECT_FALSE(seen.connected);
    EXPECT_EQ(seen.verify_result, X509_V_ERR_CERT_SIGNATURE_FAILURE);
    EXPECT_EQ(seen.verdict, nullptr);
    // Installed after InstallOn, per connection: the same.
    auto late = ClientContext();
    ASSERT_TRUE(enforcer->Install(late.get()).ok());
    Seen per_ssl = Connect(late.get(), server->port(), [&](SSL* ssl) {
      Prepare(*enforcer)(ssl);
      SSL_set_verify(ssl, SSL_VERIFY_PEER, callback);
    });
    EXPECT_FALSE(per_ssl.connected);
    EXPECT_EQ(per_ssl.verdict, nullptr);
  }
}

// Finding 9: the subject CN is never a host name, in handshakes or offline.
TEST_P(SeamsTest, CommonNameOnlyLeafIsRefused) {
  Key key = Key::Generate();
  Cert cn_only = testing::Issue({.common_name = kHost}, key, &pki_->intermediate, pki_->intermediate_key);
  auto server = StartServer(cn_only.Pem() + pki_->intermediate.Pem(), key);
  PolicyStore store(Policy({pki_->intermediate.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store);
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  Seen seen = Connect(ctx.get(), server->port(), Prepare(*enforcer));
  EXPECT_FALSE(seen.connected);
  EXPECT_EQ(seen.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);

  openssl::UniquePtr<X509_STORE> trust(X509_STORE_new());
  X509_STORE_add_cert(trust.get(), pki_->root.x509.get());
  ChainCheck offline = enforcer->CheckChain({cn_only.Der(), pki_->intermediate.Der()}, kHost, 443,
                                            SystemClock::Instance().Now(), trust.get());
  EXPECT_EQ(offline.validation.error().code(), ErrorCode::kHostnameMismatch);
}

// The host OpenSSL checks is the one pinion pins, even when the application
// clears or changes the SSL's own host after PrepareConnection.
TEST_P(SeamsTest, HostCheckCannotBeClearedAfterPrepare) {
  Key key = Key::Generate();
  Cert evil = pki_->IssueLeaf("evil.example.test", key);  // from the pinned intermediate
  auto server = StartServer(evil.Pem() + pki_->intermediate.Pem(), key);
  PolicyStore store(Policy({pki_->intermediate.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store);
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  for (const char* replacement : {static_cast<const char*>(nullptr), "evil.example.test"}) {
    Seen seen = Connect(ctx.get(), server->port(), [&](SSL* ssl) {
      Prepare(*enforcer)(ssl);
      SSL_set1_host(ssl, replacement);
    });
    EXPECT_FALSE(seen.connected) << (replacement ? replacement : "(cleared)");
    EXPECT_EQ(seen.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
  }
}

void ApplicationInfoCallback(const SSL*, int, int) {}
int AcceptEverything(X509_STORE_CTX*, void*) { return 1; }

// Finding 12: an application that replaces the info callback after InstallOn
// must not get an outdated session resumed (the guard refuses to offer it).
TEST_P(SeamsTest, ReplacedInfoCallbackCannotResumeAnOutdatedSession) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}, 1));
  auto enforcer = *Enforcer::Create(store, {.log = [](std::string_view) {}});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  Seen first = Connect(ctx.get(), server->port(), Prepare(*enforcer));
  ASSERT_TRUE(first.connected);
  ASSERT_NE(first.session, nullptr);

  SSL_CTX_set_info_callback(ctx.get(), &ApplicationInfoCallback);
  Seen same_policy = Connect(ctx.get(), server->port(), Prepare(*enforcer), first.session.get());
  ASSERT_TRUE(same_policy.connected);
  EXPECT_TRUE(same_policy.resumed);
  ASSERT_NE(same_policy.verdict, nullptr);
  EXPECT_TRUE(same_policy.verdict->resumed_session);
  EXPECT_FALSE(same_policy.pin_failure);

  store.Swap(Policy({pki_->backup_key.SpkiPin()}, 2));  // the server's key is no longer pinned
  int resumed_before = server->resumed_handshakes();
  // A fresh session (TLS 1.3 tickets are single-use on the client).
  ASSERT_NE(same_policy.session, nullptr);
  ASSERT_TRUE(SSL_SESSION_is_resumable(same_policy.session.get()));
  Seen after_swap = Connect(ctx.get(), server->port(), Prepare(*enforcer), same_policy.session.get());
  EXPECT_FALSE(after_swap.connected);
  EXPECT_FALSE(after_swap.write_ok);
  EXPECT_EQ(server->resumed_handshakes(), resumed_before);
}

// Finding 12: a cert-verify callback set after InstallOn displaces pinion's;
// the handshake then completes unchecked, so the connection is refused.
TEST_P(SeamsTest, ReplacedCertVerifyCallbackLeavesAnUnusableConnection) {
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store, {.log = [](std::string_view) {}});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  SSL_CTX_set_cert_verify_callback(ctx.get(), &AcceptEverything, nullptr);
  Seen seen = Connect(ctx.get(), rogue->port(), Prepare(*enforcer));
  EXPECT_TRUE(seen.pin_failure);
  EXPECT_FALSE(seen.write_ok);
  EXPECT_EQ(seen.reply, "");
  EXPECT_EQ(seen.verdict, nullptr);
  EXPECT_EQ(seen.verify_result, X509_V_ERR_APPLICATION_VERIFICATION);
}

// Red team: both callbacks replaced after InstallOn. pinion's info callback
// is put back on the connection by the ClientHello guard, so the handshake
// that completed without a decision is still refused.
TEST_P(SeamsTest, ReplacingBothCallbacksStillLeavesAnUnusableConnection) {
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store, {.log = [](std::string_view) {}});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  SSL_CTX_set_cert_verify_callback(ctx.get(), &AcceptEverything, nullptr);
  SSL_CTX_set_info_callback(ctx.get(), &ApplicationInfoCallback);
  Seen on_context = Connect(ctx.get(), rogue->port(), Prepare(*enforcer));
  EXPECT_TRUE(on_context.pin_failure);
  EXPECT_FALSE(on_context.write_ok);
  EXPECT_EQ(on_context.reply, "");
  Seen on_connection = Connect(ctx.get(), rogue->port(), [&](SSL* ssl) {
    Prepare(*enforcer)(ssl);
    SSL_set_info_callback(ssl, &ApplicationInfoCallback);
  });
  EXPECT_TRUE(on_connection.pin_failure);
  EXPECT_FALSE(on_connection.write_ok);
}

// Red team: an anonymous cipher suite sends no certificate, so no pin check
// could run; pinion's connections refuse one even when the application
// lowered the security level to offer it.
TEST_P(SeamsTest, AnonymousCipherSuiteIsRefused) {
  if (GetParam() != TLS1_2_VERSION) GTEST_SKIP() << "TLS 1.3 has no anonymous suites";
  LoopbackTlsServer anonymous({.chain_pem = pki_->RogueChainPem(), .key_pem = pki_->rogue_leaf_key.PrivatePem(),
                               .max_version = TLS1_2_VERSION, .cipher_list = "aNULL"});
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store, {.log = [](std::string_view) {}});
  auto ctx = ClientContext();
  SSL_CTX_set_cipher_list(ctx.get(), "aNULL:@SECLEVEL=0");
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  SSL_CTX_set_info_callback(ctx.get(), &ApplicationInfoCallback);  // and pinion's displaced
  Seen seen = Connect(ctx.get(), anonymous.port(), Prepare(*enforcer));
  EXPECT_FALSE(seen.connected);
  EXPECT_FALSE(seen.write_ok);
}

// Red team: a handshake started by SSL_write (no SSL_connect) with pinion's
// cert-verify callback displaced completes without a decision; the write
// that started it must not reach the server.
TEST_P(SeamsTest, FirstWriteOfAnUncheckedImplicitHandshakeIsNotSent) {
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store, {.log = [](std::string_view) {}});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  SSL_CTX_set_cert_verify_callback(ctx.get(), &AcceptEverything, nullptr);
  int fd = DialLoopback(rogue->port());
  ASSERT_GE(fd, 0);
  openssl::UniquePtr<SSL> ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  ASSERT_TRUE(enforcer->Prepare(ssl.get(), kHost, 443).ok());
  SSL_set_connect_state(ssl.get());
  EXPECT_LE(SSL_write(ssl.get(), "GET\n", 4), 0);
  EXPECT_TRUE(Enforcer::IsPinFailure(ssl.get()));
  close(fd);
}

// Red team: OpenSSL copies the ClientHello guard into an SSL at SSL_new, so
// an SSL made before InstallOn would have none.
TEST_P(SeamsTest, SslCreatedBeforeInstallOnIsRefused) {
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store);
  auto ctx = ClientContext();
  openssl::UniquePtr<SSL> early(SSL_new(ctx.get()));
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  EXPECT_EQ(enforcer->Prepare(early.get(), kHost, 443).error().code(), ErrorCode::kTlsSetup);
  openssl::UniquePtr<SSL> late(SSL_new(ctx.get()));
  EXPECT_TRUE(enforcer->Prepare(late.get(), kHost, 443).ok());
}

// Red team: a copy (SSL_dup) of an SSL made before InstallOn carries the
// original's extension list, so no guard either: refused like the original.
TEST_P(SeamsTest, SslDupOfATemplateMadeBeforeInstallOnIsRefused) {
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store);
  auto ctx = ClientContext();
  openssl::UniquePtr<SSL> early(SSL_new(ctx.get()));
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  openssl::UniquePtr<SSL> copy(SSL_dup(early.get()));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(enforcer->Prepare(copy.get(), kHost, 443).error().code(), ErrorCode::kTlsSetup);
}

// Red team: SSL_dup of a prepared SSL shared (and freed twice) its state.
TEST_P(SeamsTest, SslDupGetsItsOwnConnectionState) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto enforcer = *Enforcer::Create(store);
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  openssl::UniquePtr<SSL> original(SSL_new(ctx.get()));
  ASSERT_TRUE(enforcer->Prepare(original.get(), kHost, 443).ok());
  openssl::UniquePtr<SSL> copy(SSL_dup(original.get()));
  ASSERT_NE(copy, nullptr);
  ASSERT_NE(copy.get(), original.get());
  // The copy keeps the host it was prepared for and decides on its own.
  auto dial = [](SSL* ssl, std::uint16_t port) {
    int fd = DialLoopback(port);
    EXPECT_GE(fd, 0);
    SSL_set_fd(ssl, fd);
    bool connected = SSL_connect(ssl) == 1;
    return std::make_pair(connected, fd);
  };
  auto [genuine_ok, fd1] = dial(original.get(), server->port());
  auto [rogue_ok, fd2] = dial(copy.get(), rogue->port());
  EXPECT_TRUE(genuine_ok);
  EXPECT_FALSE(rogue_ok);
  EXPECT_EQ(Enforcer::VerdictOf(original.get())->reason, VerdictReason::kMatched);
  EXPECT_EQ(Enforcer::VerdictOf(copy.get())->reason, VerdictReason::kMismatch);
  EXPECT_TRUE(enforcer->ConfirmConnection(original.get(), kHost, 443).ok());
  close(fd1);
  close(fd2);
  // Both freed here: each owns its state (ASan in CI).
}

// Red team: SSL_set_SSL_CTX after PrepareConnection onto a context of another
// enforcer must not move the connection out from under its pins.
TEST_P(SeamsTest, SwitchingContextAfterPrepareFailsClosed) {
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  PolicyStore lax(Policy({pki_->leaf_key.SpkiPin()}, 1, "", "other.example.test"));
  auto enforcer = *Enforcer::Create(store, {.log = [](std::string_view) {}});
  auto other = *Enforcer::Create(lax, {.log = [](std::string_view) {}});
  auto ctx = ClientContext();
  auto other_ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());
  ASSERT_TRUE(other->Install(other_ctx.get()).ok());
  Seen seen = Connect(ctx.get(), rogue->port(), [&](SSL* ssl) {
    Prepare(*enforcer)(ssl);
    SSL_set_SSL_CTX(ssl, other_ctx.get());
  });
  EXPECT_FALSE(seen.connected);
  EXPECT_FALSE(seen.write_ok);
}

// ConfirmConnection: the proof adapters ask for before sending on a
// connection, reused or not.
TEST_P(SeamsTest, ConfirmConnectionJudgesALiveConnectionUnderTheCurrentPolicy) {
  auto server = StartServer(pki_->LeafChainPem(), pki_->leaf_key);
  auto rogue = StartServer(pki_->RogueChainPem(), pki_->rogue_leaf_key);
  TimePoint start = SystemClock::Instance().Now();
  FixedClock clock(start);
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}, 1));
  std::vector<VerdictReason> published;
  auto enforcer = *Enforcer::Create(
      store, {.clock = &clock, .on_verdict = [&](const Verdict& v) { published.push_back(v.reason); }});
  auto ctx = ClientContext();
  ASSERT_TRUE(enforcer->Install(ctx.get()).ok());

  auto confirm = [&](std::uint16_t port, const std::function<void(Enforcer&, SSL*)>& check) {
    Connect(ctx.get(), port, Prepare(*enforcer), nullptr, [&](SSL* ssl) { check(*enforcer, ssl); });
  };
  confirm(server->port(), [&](Enforcer& e, SSL* ssl) {
    auto same = e.ConfirmConnection(ssl, kHost, 443);
    ASSERT_TRUE(same.ok()) << same.error().ToString();
    EXPECT_EQ((*same)->reason, VerdictReason::kMatched);
    EXPECT_EQ(e.ConfirmConnection(ssl, "other.example.test", 443).error().code(), ErrorCode::kPinValidationFailed);
    EXPECT_EQ(e.ConfirmConnection(ssl, kHost, 8443).error().code(), ErrorCode::kPinValidationFailed);
    // A later policy that pins the intermediate: judged again, allowed without a handshake.
    store.Swap(Policy({pki_->intermediate.SpkiPin()}, 2));
    auto again = e.ConfirmConnection(ssl, kHost, 443);
    ASSERT_TRUE(again.ok()) << again.error().ToString();
    EXPECT_EQ((*again)->policy_version, 2u);
    // Another key pinned now: the live connection is judged again and refused …
    store.Swap(Policy({pki_->backup_key.SpkiPin()}, 3));
    auto swapped = e.ConfirmConnection(ssl, kHost, 443);
    EXPECT_EQ(swapped.error().code(), ErrorCode::kPinValidationFailed);
    EXPECT_EQ(Enforcer::VerdictOf(ssl)->reason, VerdictReason::kMismatch);
    // … and stays refused, whatever policy comes next.
    store.Swap(Policy({pki_->leaf_key.SpkiPin()}, 4));
    EXPECT_EQ(e.ConfirmConnection(ssl, kHost, 443).error().code(), ErrorCode::kPinValidationFailed);
  });
  EXPECT_EQ(published.size(), 3u);

  // A kept-alive connection allowed by a kill switch stops being allowed at `until`.
  store.Swap(WithKillSwitch(Policy({pki_->leaf_key.SpkiPin()}), 5, start + std::chrono::hours(1)));
  confirm(rogue->port(), [&](Enforcer& e, SSL* ssl) {
    EXPECT_TRUE(e.ConfirmConnection(ssl, kHost, 443).ok());
    clock.Set(start + std::chrono::hours(1));
    EXPECT_EQ(e.ConfirmConnection(ssl, kHost, 443).error().code(), ErrorCode::kPinValidationFailed);
  });

  // A connection from a context without pinion is never confirmed.
  auto bare = ClientContext();
  SSL_CTX_set_verify(bare.get(), SSL_VERIFY_PEER, nullptr);
  Connect(bare.get(), server->port(), [](SSL* ssl) { SSL_set1_host(ssl, kHost); }, nullptr, [&](SSL* ssl) {
    EXPECT_EQ(enforcer->ConfirmConnection(ssl, kHost, 443).error().code(), ErrorCode::kPinValidationFailed);
  });
}

INSTANTIATE_TEST_SUITE_P(Tls, SeamsTest, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                           return param_info.param == TLS1_3_VERSION ? "Tls13" : "Tls12";
                         });

}  // namespace
}  // namespace pinion::openssl
