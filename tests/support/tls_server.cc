#include "tls_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <csignal>
#include <stdexcept>

namespace pinion::testing {
namespace {

openssl::UniquePtr<SSL_CTX> MakeServerContext(const LoopbackTlsServer::Options& options,
                                               const std::string& chain_pem,
                                               const std::string& key_pem) {
  openssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), options.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), options.max_version);
  if (!options.cipher_list.empty()) {
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_dh_auto(ctx.get(), 1);
    SSL_CTX_set_cipher_list(ctx.get(), options.cipher_list.c_str());
  }
  static const unsigned char kSessionContext[] = "pinion-test";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
  openssl::UniquePtr<BIO> chain(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())));
  bool first = true;
  while (X509* cert = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr)) {
    if (first) {
      SSL_CTX_use_certificate(ctx.get(), cert);
      X509_free(cert);
      first = false;
    } else {
      SSL_CTX_add0_chain_cert(ctx.get(), cert);
    }
  }
  ERR_clear_error();
  openssl::UniquePtr<BIO> key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  openssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (first || !key || SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
    throw std::runtime_error("test server: bad certificate or key");
  }
  return ctx;
}

}  // namespace

LoopbackTlsServer::LoopbackTlsServer(Options options) : options_(std::move(options)) {
  // A client that leaves right after its handshake must not kill the test process.
  signal(SIGPIPE, SIG_IGN);
  ctx_ = MakeServerContext(options_, options_.chain_pem, options_.key_pem);
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("test server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

LoopbackTlsServer::~LoopbackTlsServer() {
  stop_ = true;
  acceptor_.join();
  std::lock_guard<std::mutex> lock(workers_mutex_);
  for (std::thread& worker : workers_) worker.join();
  close(listen_fd_);
}

void LoopbackTlsServer::ReplaceCertificate(const std::string& chain_pem, const std::string& key_pem) {
  auto ctx = MakeServerContext(options_, chain_pem, key_pem);
  std::lock_guard<std::mutex> lock(ctx_mutex_);
  ctx_ = std::move(ctx);
}

void LoopbackTlsServer::AcceptLoop() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(workers_mutex_);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void LoopbackTlsServer::Serve(int fd) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  openssl::UniquePtr<SSL> ssl;
  {
    std::lock_guard<std::mutex> lock(ctx_mutex_);
    ssl.reset(SSL_new(ctx_.get()));
  }
  SSL_set_fd(ssl.get(), fd);
  if (SSL_accept(ssl.get()) == 1) {
    ++handshakes_;
    if (SSL_session_reused(ssl.get())) ++resumed_;
    if (options_.reply_byte_interval.count() == 0) {
      SSL_write(ssl.get(), options_.reply.data(), static_cast<int>(options_.reply.size()));
    } else {
      // Bounded by the reply's length; stops early when the client is gone or the server stops.
      for (char byte : options_.reply) {
        if (stop_ || SSL_write(ssl.get(), &byte, 1) != 1) break;
        std::this_thread::sleep_for(options_.reply_byte_interval);
      }
    }
    SSL_shutdown(ssl.get());
  }
  ERR_clear_error();
  ssl.reset();
  close(fd);
}

}  // namespace pinion::testing
