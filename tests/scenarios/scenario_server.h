// ScenarioServer: the loopback HTTPS server every handshake stack of a
// scenario talks to (cpp-httplib over OpenSSL, so libcurl can reuse its
// keep-alive connections and resume its sessions): serves the scenario's
// `serve` chain with the key of its first certificate, optionally capped at
// TLS 1.2 or demanding a client certificate (a handshake that fails only
// after the server's certificate was accepted). GET / answers "ok".
#ifndef PINION_TESTS_SCENARIOS_SCENARIO_SERVER_H_
#define PINION_TESTS_SCENARIOS_SCENARIO_SERVER_H_

#include <httplib.h>
#include <openssl/ssl.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "scenario.h"
#include "scenario_pki.h"

namespace pinion::scenarios {

class ScenarioServer {
 public:
  ScenarioServer(const ScenarioPki& pki, const std::vector<std::string>& serve, const ServerOptions& options)
      : server_([&pki, &serve, options](SSL_CTX& ctx) {
          bool ok = SSL_CTX_use_certificate(&ctx, pki.cert(serve.front()).x509.get()) == 1 &&
                    SSL_CTX_use_PrivateKey(&ctx, pki.KeyOf(serve.front()).pkey.get()) == 1;
          for (std::size_t i = 1; ok && i < serve.size(); ++i) {
            ok = SSL_CTX_add1_chain_cert(&ctx, pki.cert(serve[i]).x509.get()) == 1;
          }
          if (options.max_tls == "1.2") SSL_CTX_set_max_proto_version(&ctx, TLS1_2_VERSION);
          if (options.require_client_cert) {
            SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
          }
          static const unsigned char kContext[] = "pinion-scenarios";
          SSL_CTX_set_session_id_context(&ctx, kContext, sizeof kContext - 1);
          return ok;
        }) {
    server_.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("ok", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~ScenarioServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  ScenarioServer(const ScenarioServer&) = delete;
  ScenarioServer& operator=(const ScenarioServer&) = delete;

  bool valid() const { return server_.is_valid() && port_ > 0; }
  std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace pinion::scenarios

#endif  // PINION_TESTS_SCENARIOS_SCENARIO_SERVER_H_
