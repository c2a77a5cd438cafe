// CurlPinning on real transfers: libcurl (OpenSSL backend) against HTTPS
// servers on 127.0.0.1 serving the real chain or a rogue-CA chain the client
// also trusts — on easy handles, on every handle of a multi, and curl's own
// leaf-only CURLOPT_PINNEDPUBLICKEY from a pinion policy.
#include "pinion/curl/pinning.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>

#include "pinion/policy_loader.h"
#include "hello_server.h"
#include "https_test_server.h"
#include "test_pki.h"

namespace pinion::curl {
namespace {

using testing::HelloServer;

using pinion::testing::TempDir;
using pinion::testing::TestPki;



class CurlPinningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Create("localhost")); }
  static void TearDownTestSuite() { delete pki_; }
  void SetUp() override {
    pinion::testing::WriteServerFiles(*pki_, dir_);
  }
  PolicySnapshot Policy(const std::string& pins) {
    auto policy = ParsePolicyToml("[policy]\nversion = 1\n[[domain]]\nhost = \"localhost\"\npins = [" + pins + "]\n", "p.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  std::string LeafPins() {
    return "{ pin = \"" + pki_->leaf_key.SpkiPin().ToString() + "\" }, { pin = \"" + pki_->backup_key.SpkiPin().ToString() + "\" }";
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

  static TestPki* pki_;
  TempDir dir_;
};
TestPki* CurlPinningTest::pki_ = nullptr;

TEST_F(CurlPinningTest, AnEasyHandleAcceptsTheRealChainAndRefusesARogueOne) {
  ASSERT_TRUE(IsOpenSslBackend());
  HelloServer real(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  HelloServer rogue(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  PolicyStore store(Policy(LeafPins()));
  auto pinning = CurlPinning::Create(store);
  ASSERT_TRUE(pinning.ok());

  std::string body;
  CURL* easy = Easy(real.Url(), &body);
  ASSERT_TRUE((*pinning)->Install(easy).ok());
  EXPECT_EQ(curl_easy_perform(easy), CURLE_OK);
  EXPECT_EQ(body, "hello");
  ASSERT_NE((*pinning)->VerdictOf(easy), nullptr);
  EXPECT_EQ((*pinning)->VerdictOf(easy)->reason, VerdictReason::kMatched);
  // The same handle, reused for the impostor.
  body.clear();
  curl_easy_setopt(easy, CURLOPT_URL, rogue.Url().c_str());
  EXPECT_EQ(curl_easy_perform(easy), CURLE_PEER_FAILED_VERIFICATION);
  EXPECT_TRUE(body.empty());
  ASSERT_NE((*pinning)->VerdictOf(easy), nullptr);
  EXPECT_EQ((*pinning)->VerdictOf(easy)->reason, VerdictReason::kMismatch);
  (*pinning)->Uninstall(easy);
  curl_easy_cleanup(easy);
}

TEST_F(CurlPinningTest, EveryHandleOfAMultiIsPinned) {
  HelloServer real(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  HelloServer rogue(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  PolicyStore store(Policy(LeafPins()));
  auto pinning = *CurlPinning::Create(store);
  CURLM* multi = curl_multi_init();
  std::vector<std::string> bodies(4);
  std::vector<CURL*> handles;
  for (int i = 0; i < 4; ++i) {
    CURL* easy = Easy(i % 2 == 0 ? real.Url() : rogue.Url(), &bodies[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(pinning->Install(easy).ok());  // attach, then add: every connection of the multi is pinned
    curl_multi_add_handle(multi, easy);
    handles.push_back(easy);
  }
  int running = 1;
  for (int rounds = 0; running > 0 && rounds < 1000; ++rounds) {  // bounded: ~10 s at most
    curl_multi_perform(multi, &running);
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 10, nullptr);
  }
  std::map<CURL*, CURLcode> results;
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
    if (message->msg == CURLMSG_DONE) results[message->easy_handle] = message->data.result;
  }
  for (std::size_t i = 0; i < handles.size(); ++i) {
    bool genuine = i % 2 == 0;
    EXPECT_EQ(results[handles[i]], genuine ? CURLE_OK : CURLE_PEER_FAILED_VERIFICATION) << i;
    EXPECT_EQ(bodies[i], genuine ? "hello" : "") << i;
    auto verdict = pinning->VerdictOf(handles[i]);
    ASSERT_NE(verdict, nullptr) << i;
    EXPECT_EQ(verdict->reason, genuine ? VerdictReason::kMatched : VerdictReason::kMismatch) << i;
    curl_multi_remove_handle(multi, handles[i]);
    pinning->Uninstall(handles[i]);
    curl_easy_cleanup(handles[i]);
  }
  curl_multi_cleanup(multi);
}

TEST_F(CurlPinningTest, PinnedPublicKeyStringForCurlsLeafOnlyPinning) {
  HelloServer real(dir_.path() / "chain.pem", dir_.path() / "leaf.key");
  HelloServer rogue(dir_.path() / "rogue-chain.pem", dir_.path() / "rogue.key");
  PolicySnapshot policy = Policy(LeafPins());
  auto pins = PinnedPublicKeyFor(*policy, "LOCALHOST.");
  ASSERT_TRUE(pins.ok()) << pins.error().ToString();
  EXPECT_EQ(*pins, "sha256//" + pki_->leaf_key.SpkiPin().Base64() + ";sha256//" + pki_->backup_key.SpkiPin().Base64());

  std::string body;
  CURL* easy = Easy(real.Url(), &body);
  ASSERT_TRUE(ApplyPinnedPublicKey(easy, *policy, "localhost").ok());
  EXPECT_EQ(curl_easy_perform(easy), CURLE_OK);
  curl_easy_setopt(easy, CURLOPT_URL, rogue.Url().c_str());
  EXPECT_EQ(curl_easy_perform(easy), CURLE_SSL_PINNEDPUBKEYNOTMATCH);
  curl_easy_cleanup(easy);

  // What curl cannot express is refused, never silently dropped.
  EXPECT_EQ(PinnedPublicKeyFor(*policy, "other.example").error().code(), ErrorCode::kInvalidArgument);
  PolicySnapshot with_certificate_pin =
      Policy(LeafPins() + ", { pin = \"" + pki_->leaf.CertificatePin().ToString() + "\" }");
  auto refused = PinnedPublicKeyFor(*with_certificate_pin, "localhost");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("CurlPinning"), std::string::npos);
}

}  // namespace
}  // namespace pinion::curl
