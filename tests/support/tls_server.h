// LoopbackTlsServer: a real OpenSSL TLS server on 127.0.0.1 for tests. Each
// connection gets a handshake, a short reply and a clean close. It stops
// (and joins its threads) when destroyed.
#ifndef PINION_TESTS_SUPPORT_TLS_SERVER_H_
#define PINION_TESTS_SUPPORT_TLS_SERVER_H_

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pinion/openssl/unique_ptr.h"

namespace pinion::testing {

class LoopbackTlsServer {
 public:
  struct Options {
    std::string chain_pem;  // leaf first, then intermediates
    std::string key_pem;
    int min_version = TLS1_2_VERSION;
    int max_version = TLS1_3_VERSION;
    std::string reply = "hello from pinion test server\n";
    // TLS 1.2 cipher list, at security level 0 (e.g. "aNULL" for anonymous suites); empty: defaults.
    std::string cipher_list;
    // When set, the reply is written one byte at a time with this pause (a
    // peer that trickles its answer to hold a client's idle timeout open).
    std::chrono::milliseconds reply_byte_interval{0};
  };
  explicit LoopbackTlsServer(Options options);
  ~LoopbackTlsServer();

  std::uint16_t port() const { return port_; }
  int handshakes() const { return handshakes_.load(); }
  int resumed_handshakes() const { return resumed_.load(); }
  // ReplaceCertificate switches what later connections are served.
  void ReplaceCertificate(const std::string& chain_pem, const std::string& key_pem);

 private:
  void AcceptLoop();
  void Serve(int fd);

  Options options_;
  openssl::UniquePtr<SSL_CTX> ctx_;
  std::mutex ctx_mutex_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  std::atomic<int> resumed_{0};
  std::thread acceptor_;
  std::mutex workers_mutex_;
  std::vector<std::thread> workers_;
};

}  // namespace pinion::testing

#endif  // PINION_TESTS_SUPPORT_TLS_SERVER_H_
