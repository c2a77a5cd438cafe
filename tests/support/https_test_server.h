// HttpsTestServer: a real HTTPS server (cpp-httplib over OpenSSL) on
// 127.0.0.1 for tests, serving a given certificate chain and key.
//
//   HttpsTestServer server(dir / "chain.pem", dir / "leaf.key");
//   server.http().Get("/", [](const auto&, auto& response) { response.set_content("hi", "text/plain"); });
//   server.Start();   // after the routes: listens on a free port until destruction
//
// Header-only, so only tests that use it link cpp-httplib.
#ifndef PINION_TESTS_SUPPORT_HTTPS_TEST_SERVER_H_
#define PINION_TESTS_SUPPORT_HTTPS_TEST_SERVER_H_

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace pinion::testing {

class HttpsTestServer {
 public:
  HttpsTestServer(const std::filesystem::path& chain, const std::filesystem::path& key)
      : server_([chain, key](SSL_CTX& ctx) {
          return SSL_CTX_use_certificate_chain_file(&ctx, chain.c_str()) == 1 &&
                 SSL_CTX_use_PrivateKey_file(&ctx, key.c_str(), SSL_FILETYPE_PEM) == 1;
        }) {}
  ~HttpsTestServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  httplib::Server& http() { return server_; }

  // Start binds a free loopback port and serves on a thread (bounded wait: 2 s).
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  int port() const { return port_; }
  // Url is https://HOST:PORT/PATH (HOST must be what the certificate names; it resolves to loopback).
  std::string Url(const std::string& host, const std::string& path = "/") const {
    return "https://" + host + ":" + std::to_string(port_) + path;
  }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace pinion::testing

#endif  // PINION_TESTS_SUPPORT_HTTPS_TEST_SERVER_H_
