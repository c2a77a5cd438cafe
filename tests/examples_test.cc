// Runs every example program (examples/) against HTTPS servers on 127.0.0.1:
// the real chain is accepted, a rogue-CA chain that the trust store also
// holds is refused by the pins with the documented exit code 1.
#include <gtest/gtest.h>
#include <httplib.h>

#include "https_test_server.h"
#include "test_pki.h"

namespace pinion {
namespace {

using testing::RunCommand;
using testing::TempDir;
using testing::TestPki;

// Server answers GET / over HTTPS with a fixed text.
class Server {
 public:
  Server(const std::filesystem::path& chain, const std::filesystem::path& key) : server_(chain, key) {
    server_.http().Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("hello from the real server\n", "text/plain");
    });
    server_.Start();
  }
  std::string port() const { return std::to_string(server_.port()); }

 private:
  testing::HttpsTestServer server_;
};

class ExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = std::make_unique<TestPki>(TestPki::Create("api.example.test"));
    testing::WriteServerFiles(*pki_, dir_);
    dir_.Write("policy.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"api.example.test\"\npins = [ { pin = \"" +
                                  pki_->leaf_key.SpkiPin().ToString() + "\" }, { pin = \"" +
                                  pki_->backup_key.SpkiPin().ToString() + "\" } ]\n");
  }
  std::string File(const char* name) { return (dir_.path() / name).string(); }

  std::unique_ptr<TestPki> pki_;
  TempDir dir_;
};

TEST_F(ExamplesTest, OpenSslClient) {
  Server real(File("chain.pem"), File("leaf.key"));
  Server rogue(File("rogue-chain.pem"), File("rogue.key"));
  std::string common = " " + File("policy.toml") + " " + File("roots.pem") + " 127.0.0.1";
  auto accepted = RunCommand(std::string(PINION_OPENSSL_CLIENT) + " api.example.test " + real.port() + common);
  EXPECT_EQ(accepted.exit_code, 0) << accepted.output;
  EXPECT_NE(accepted.output.find("ALLOW api.example.test"), std::string::npos) << accepted.output;
  auto refused = RunCommand(std::string(PINION_OPENSSL_CLIENT) + " api.example.test " + rogue.port() + common);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find(pki_->rogue_leaf_key.SpkiPin().ToString()), std::string::npos) << refused.output;
}

TEST_F(ExamplesTest, CurlClient) {
  Server real(File("chain.pem"), File("leaf.key"));
  Server rogue(File("rogue-chain.pem"), File("rogue.key"));
  std::string common = " " + File("policy.toml") + " " + File("roots.pem") + " 127.0.0.1";
  auto fetched = RunCommand(std::string(PINION_CURL_CLIENT) + " https://api.example.test:" + real.port() + "/" + common);
  EXPECT_EQ(fetched.exit_code, 0) << fetched.output;
  EXPECT_EQ(fetched.output, "hello from the real server\n");
  auto refused = RunCommand(std::string(PINION_CURL_CLIENT) + " https://api.example.test:" + rogue.port() + "/" + common);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_EQ(refused.output.find("hello"), std::string::npos);
}

TEST_F(ExamplesTest, AsioClient) {
  Server real(File("chain.pem"), File("leaf.key"));
  Server rogue(File("rogue-chain.pem"), File("rogue.key"));
  std::string common = " " + File("policy.toml") + " " + File("roots.pem") + " 127.0.0.1";
  auto accepted = RunCommand(std::string(PINION_ASIO_CLIENT) + " api.example.test " + real.port() + common);
  EXPECT_EQ(accepted.exit_code, 0) << accepted.output;
  EXPECT_NE(accepted.output.find("ALLOW"), std::string::npos) << accepted.output;
  auto refused = RunCommand(std::string(PINION_ASIO_CLIENT) + " api.example.test " + rogue.port() + common);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  // Unusable input is a usage error, not a silent pass.
  EXPECT_EQ(RunCommand(std::string(PINION_ASIO_CLIENT) + " api.example.test 1 /nonexistent.toml").exit_code, 2);
}

}  // namespace
}  // namespace pinion
