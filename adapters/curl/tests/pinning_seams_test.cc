// CurlPinning attacked where libcurl and pinion meet (issue 12, findings 2
// and 3): options the application sets after Attach, and connections curl
// reuses from its cache — through the same multi, a share handle, after a
// policy swap and after a kill switch ends — instead of making a handshake.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/ssl.h>

#include <thread>

#include "hello_server.h"
#include "https_test_server.h"
#include "pinion/curl/pinning.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"

namespace pinion::curl {
namespace {

using testing::HelloServer;

using pinion::testing::Cert;
using pinion::testing::Key;
using pinion::testing::TempDir;
using pinion::testing::TestPki;



class CurlSeamsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("localhost")); }
  static void TearDownTestSuite() { delete pki_; }
  void SetUp() override { pinion::testing::WriteServerFiles(*pki_, dir_); }

  PolicySnapshot Policy(const std::vector<Pin>& pins, std::uint64_t version = 1,
                        const std::string& host = "localhost") {
    std::string toml = "[policy]\nversion = " + std::to_string(version) + "\n[[domain]]\nhost = \"" + host +
                       "\"\npins = [";
    for (const Pin& pin : pins) toml += "{ pin = \"" + pin.ToString() + "\" },";
    auto policy = ParsePolicyToml(toml + "]\n", "p.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  CURL* Easy(const std::string& url, std::string* body) {
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_CAINFO, (dir_.path() / "roots.pem").c_str());
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &testing::CollectBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
    return easy;
  }
  static long Connects(CURL* easy) {
    long connects = -1;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    return connects;
  }
  // RunInMulti performs `easy` to completion on `multi` (bounded) and returns its result.
  static CURLcode RunInMulti(CURLM* multi, CURL* easy) {
    curl_multi_add_handle(multi, easy);
    int running = 1;
    CURLcode result = CURLE_OK;
    for (int rounds = 0; running > 0 && rounds < 10000; ++rounds) {
      curl_multi_perform(multi, &running);
      if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == easy) result = message->data.result;
    }
    curl_multi_remove_handle(multi, easy);
    return result;
  }

  static TestPki* pki_;
  TempDir dir_;
};
TestPki* CurlSeamsTest::pki_ = nullptr;

// Finding 2: a certificate from the pinned intermediate for another name
// must be refused whatever VERIFYPEER/VERIFYHOST the application sets after
// Attach; the genuine certificate must still pass with VERIFYHOST off.
TEST_F(CurlSeamsTest, HostNameIsCheckedWhateverVerifyOptionsSayAfterAttach) {
  Key evil_key = Key::Generate();
  Cert evil = pki_->IssueLeaf("evil.test", evil_key);
  dir_.Write("evil-chain.pem", evil.Pem() + pki_->intermediate.Pem());
  dir_.Write("evil.key", evil_key.PrivatePem());
  HelloServer impostor(dir_.path() / "evil-chain.pem", dir_.path() / "evil.key");
  HelloServer genuine(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy({pki_->intermediate.SpkiPin()}));
  auto pinning = *CurlPinning::Create(store, {.log = [](std::string_view) {}});
  struct Combination {
    long verify_peer, verify_host;
    bool before_attach;
  };
  for (Combination combination : {Combination{1, 0, false}, Combination{0, 0, false}, Combination{0, 2, false},
                                  Combination{1, 0, true}, Combination{0, 0, true}}) {
    SCOPED_TRACE(::testing::Message() << "VERIFYPEER=" << combination.verify_peer
                                      << " VERIFYHOST=" << combination.verify_host
                                      << (combination.before_attach ? " before" : " after") << " Attach");
    for (HelloServer* server : {&impostor, &genuine}) {
      std::string body;
      CURL* easy = Easy(server->Url("localhost"), &body);
      auto set = [&] {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, combination.verify_peer);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, combination.verify_host);
      };
      if (combination.before_attach) set();
      ASSERT_TRUE(pinning->Install(easy).ok());
      if (!combination.before_attach) set();
      CURLcode code = curl_easy_perform(easy);
      if (server == &impostor) {
        EXPECT_NE(code, CURLE_OK);
        EXPECT_EQ(body, "");
      } else if (combination.verify_peer == 1) {
        EXPECT_EQ(code, CURLE_OK) << curl_easy_strerror(code);
        EXPECT_EQ(body, "hello");
      }
      pinning->Uninstall(easy);
      curl_easy_cleanup(easy);
    }
  }
}

// Finding 3: an unattached transfer through the same multi leaves an
// intercepted connection in the cache; the next pinned transfer must not
// reuse it (no handshake happens, so only the pre-request check can tell).
TEST_F(CurlSeamsTest, PinnedTransferRefusesAConnectionAnUnpinnedHandleLeftInTheMulti) {
  HelloServer rogue(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin(), pki_->backup_key.SpkiPin()}));
  auto pinning = *CurlPinning::Create(store);
  CURLM* multi = curl_multi_init();
  std::string unpinned_body, pinned_body;
  CURL* unpinned = Easy(rogue.Url("localhost"), &unpinned_body);
  ASSERT_EQ(RunInMulti(multi, unpinned), CURLE_OK);  // the rogue CA is trusted: fine without pins
  EXPECT_EQ(unpinned_body, "hello");

  CURL* pinned = Easy(rogue.Url("localhost"), &pinned_body);
  ASSERT_TRUE(pinning->Install(pinned).ok());
  EXPECT_EQ(RunInMulti(multi, pinned), CURLE_ABORTED_BY_CALLBACK);
  EXPECT_EQ(Connects(pinned), 0);  // it was offered the cached connection …
  EXPECT_EQ(pinned_body, "");      // … and sent nothing on it
  EXPECT_EQ(pinning->VerdictOf(pinned), nullptr);
  pinning->Uninstall(pinned);
  curl_easy_cleanup(pinned);
  curl_easy_cleanup(unpinned);
  curl_multi_cleanup(multi);
}

TEST_F(CurlSeamsTest, PinnedTransferRefusesAConnectionSharedFromAnUnpinnedHandle) {
  HelloServer rogue(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto pinning = *CurlPinning::Create(store);
  CURLSH* share = curl_share_init();
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  std::string unpinned_body, pinned_body;
  CURL* unpinned = Easy(rogue.Url("localhost"), &unpinned_body);
  curl_easy_setopt(unpinned, CURLOPT_SHARE, share);
  ASSERT_EQ(curl_easy_perform(unpinned), CURLE_OK);
  CURL* pinned = Easy(rogue.Url("localhost"), &pinned_body);
  curl_easy_setopt(pinned, CURLOPT_SHARE, share);
  ASSERT_TRUE(pinning->Install(pinned).ok());
  CURLcode code = curl_easy_perform(pinned);
  EXPECT_NE(code, CURLE_OK);
  EXPECT_EQ(pinned_body, "");
  pinning->Uninstall(pinned);
  curl_easy_cleanup(pinned);
  curl_easy_cleanup(unpinned);
  curl_share_cleanup(share);
}

// Reuse that pinion did check goes on working; a policy swap between
// transfers makes the reused connection answer to the new policy.
TEST_F(CurlSeamsTest, ReusedConnectionIsJudgedByTheCurrentPolicy) {
  HelloServer real(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}, 1));
  auto pinning = *CurlPinning::Create(store);
  std::string body;
  CURL* easy = Easy(real.Url("localhost"), &body);
  ASSERT_TRUE(pinning->Install(easy).ok());
  ASSERT_EQ(curl_easy_perform(easy), CURLE_OK);
  EXPECT_EQ(Connects(easy), 1);

  body.clear();
  ASSERT_EQ(curl_easy_perform(easy), CURLE_OK);  // same policy: reuse is proved, no new handshake
  EXPECT_EQ(Connects(easy), 0);
  EXPECT_EQ(body, "hello");
  EXPECT_EQ(pinning->VerdictOf(easy)->reason, VerdictReason::kMatched);

  store.Swap(Policy({pki_->intermediate.SpkiPin()}, 2));  // still covers the server: reuse goes on
  body.clear();
  ASSERT_EQ(curl_easy_perform(easy), CURLE_OK);
  EXPECT_EQ(Connects(easy), 0);
  EXPECT_EQ(pinning->VerdictOf(easy)->policy_version, 2u);

  store.Swap(Policy({pki_->backup_key.SpkiPin()}, 3));  // no longer covers it
  body.clear();
  EXPECT_EQ(curl_easy_perform(easy), CURLE_ABORTED_BY_CALLBACK);
  EXPECT_EQ(body, "");
  ASSERT_NE(pinning->VerdictOf(easy), nullptr);
  EXPECT_EQ(pinning->VerdictOf(easy)->reason, VerdictReason::kMismatch);
  pinning->Uninstall(easy);
  curl_easy_cleanup(easy);
}

// Finding 4 for kept-alive connections: allowed by a kill switch, refused at `until`.
TEST_F(CurlSeamsTest, KeptAliveConnectionIsRefusedWhenTheKillSwitchEnds) {
  HelloServer rogue(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  TimePoint start = SystemClock::Instance().Now();
  FixedClock clock(start);
  PolicySnapshot base = Policy({pki_->leaf_key.SpkiPin()}, 1);
  std::vector<DomainRule> rules(base->rules().begin(), base->rules().end());
  PolicyStore store(*Policy::Create(
      2, std::move(rules), EnforcementOverride{OverrideMode::kDisabled, {}, start + std::chrono::hours(1)}));
  auto pinning = *CurlPinning::Create(store, {.clock = &clock});
  std::string body;
  CURL* easy = Easy(rogue.Url("localhost"), &body);
  ASSERT_TRUE(pinning->Install(easy).ok());
  ASSERT_EQ(curl_easy_perform(easy), CURLE_OK);
  EXPECT_EQ(pinning->VerdictOf(easy)->reason, VerdictReason::kKillSwitch);
  clock.Set(start + std::chrono::hours(1));
  body.clear();
  EXPECT_EQ(curl_easy_perform(easy), CURLE_ABORTED_BY_CALLBACK);
  EXPECT_EQ(body, "");
  pinning->Uninstall(easy);
  curl_easy_cleanup(easy);
}

// Red team: a handle copied with curl_easy_duphandle carries the original's
// callback data. While the original is busy on a genuine connection, the
// copy must not pass the check with the original's connection and send on a
// rogue one from the cache.
TEST_F(CurlSeamsTest, DuplicatedHandleIsJudgedOnItsOwnConnection) {
  pinion::testing::HttpsTestServer genuine(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  genuine.http().Get("/slow", [](const httplib::Request&, httplib::Response& response) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));  // keeps the original mid-transfer
    response.set_content("slow", "text/plain");
  });
  genuine.Start();
  HelloServer rogue(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto pinning = *CurlPinning::Create(store);
  CURLM* multi = curl_multi_init();
  std::string unpinned_body, original_body, copy_body;
  CURL* unpinned = Easy(rogue.Url("localhost"), &unpinned_body);
  ASSERT_EQ(RunInMulti(multi, unpinned), CURLE_OK);  // leaves a rogue connection in the cache

  CURL* original = Easy(genuine.Url("localhost", "/slow"), &original_body);
  ASSERT_TRUE(pinning->Install(original).ok());
  CURL* copy = curl_easy_duphandle(original);
  curl_easy_setopt(copy, CURLOPT_URL, rogue.Url("localhost").c_str());
  curl_easy_setopt(copy, CURLOPT_WRITEDATA, &copy_body);
  curl_multi_add_handle(multi, original);
  int running = 1;
  for (int rounds = 0; running > 0 && rounds < 200; ++rounds) {  // until the original is mid-transfer
    curl_multi_perform(multi, &running);
    curl_multi_poll(multi, nullptr, 0, 10, nullptr);
    curl_tlssessioninfo* tls = nullptr;
    if (curl_easy_getinfo(original, CURLINFO_TLS_SSL_PTR, &tls) == CURLE_OK && tls != nullptr &&
        tls->internals != nullptr && SSL_is_init_finished(static_cast<SSL*>(tls->internals))) {
      break;
    }
  }
  EXPECT_NE(RunInMulti(multi, copy), CURLE_OK);
  EXPECT_EQ(copy_body, "");
  CURLcode original_code = RunInMulti(multi, original);
  EXPECT_EQ(original_code, CURLE_OK) << curl_easy_strerror(original_code);
  EXPECT_EQ(original_body, "slow");
  pinning->Uninstall(original);
  curl_easy_cleanup(copy);
  curl_easy_cleanup(original);
  curl_easy_cleanup(unpinned);
  curl_multi_cleanup(multi);
}

// Red team: a copy outliving the handle it was copied from (detached, then
// cleaned up) must fail closed, not touch the freed handle; attached itself, it works.
TEST_F(CurlSeamsTest, CopyOfADetachedHandleFailsClosedUntilAttached) {
  HelloServer real(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto pinning = *CurlPinning::Create(store);
  std::string original_body, copy_body;
  CURL* original = Easy(real.Url("localhost"), &original_body);
  ASSERT_TRUE(pinning->Install(original).ok());
  CURL* copy = curl_easy_duphandle(original);
  curl_easy_setopt(copy, CURLOPT_WRITEDATA, &copy_body);
  pinning->Uninstall(original);
  curl_easy_cleanup(original);
  EXPECT_NE(curl_easy_perform(copy), CURLE_OK);
  EXPECT_EQ(copy_body, "");
  ASSERT_TRUE(pinning->Install(copy).ok());
  EXPECT_EQ(curl_easy_perform(copy), CURLE_OK);
  EXPECT_EQ(copy_body, "hello");
  EXPECT_EQ(pinning->VerdictOf(copy)->reason, VerdictReason::kMatched);
  pinning->Uninstall(copy);
  curl_easy_cleanup(copy);
}

// A pinned host over plain HTTP has no chain to pin: refused before sending.
TEST_F(CurlSeamsTest, PlainHttpToAPinnedHostIsRefused) {
  httplib::Server plain;
  plain.Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("hello", "text/plain");
  });
  int port = plain.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { plain.listen_after_bind(); });
  for (int i = 0; i < 2000 && !plain.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  PolicyStore store(Policy({pki_->leaf_key.SpkiPin()}));
  auto pinning = *CurlPinning::Create(store);
  std::string pinned_body, unpinned_body;
  CURL* pinned = Easy("http://localhost:" + std::to_string(port) + "/", &pinned_body);
  ASSERT_TRUE(pinning->Install(pinned).ok());
  EXPECT_EQ(curl_easy_perform(pinned), CURLE_ABORTED_BY_CALLBACK);
  EXPECT_EQ(pinned_body, "");
  CURL* unpinned = Easy("http://127.0.0.1:" + std::to_string(port) + "/", &unpinned_body);
  ASSERT_TRUE(pinning->Install(unpinned).ok());
  EXPECT_EQ(curl_easy_perform(unpinned), CURLE_OK);  // the policy pins no rule for 127.0.0.1
  EXPECT_EQ(unpinned_body, "hello");
  pinning->Uninstall(pinned);
  pinning->Uninstall(unpinned);
  curl_easy_cleanup(pinned);
  curl_easy_cleanup(unpinned);
  plain.stop();
  thread.join();
}

}  // namespace
}  // namespace pinion::curl
