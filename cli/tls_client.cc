#include "tls_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "internal/openssl_util.h"
#include "pinion/host_pattern.h"

namespace pinion::cli {
namespace {

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Connects with a deadline: non-blocking connect, poll, then back to blocking
// with send/receive timeouts for the TLS layer.
Result<Socket> ConnectTcp(const std::string& address, std::uint16_t port,
                          std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(address.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return Error(ErrorCode::kNetwork, "cannot resolve '" + address + "': " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    Socket socket(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (socket.get() < 0) continue;
    int flags = fcntl(socket.get(), F_GETFL);
    fcntl(socket.get(), F_SETFL, flags | O_NONBLOCK);
    if (connect(socket.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      continue;
    }
    pollfd pfd{socket.get(), POLLOUT, 0};
    int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) {
      last_error = ready == 0 ? "timed out" : std::strerror(errno);
      continue;
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &so_error, &length);
    if (so_error != 0) {
      last_error = std::strerror(so_error);
      continue;
    }
    fcntl(socket.get(), F_SETFL, flags);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return socket;
  }
  return Error(ErrorCode::kNetwork,
               "cannot connect to " + address + ":" + service + ": " + last_error);
}

std::vector<std::vector<std::uint8_t>> ToDer(STACK_OF(X509) * stack) {
  std::vector<std::vector<std::uint8_t>> out;
  for (int i = 0; stack != nullptr && i < sk_X509_num(stack); ++i) {
    out.push_back(internal::CertificateDer(sk_X509_value(stack, i)));
  }
  return out;
}

// Set on the connection when the server asks for a client certificate; the
// client then goes on without one.
int NoteCertificateRequest(SSL*, void* requested) {
  *static_cast<bool*>(requested) = true;
  return 1;
}

// ServerRefusedAfterHandshake: in TLS 1.3 the client finishes its handshake
// before the server has judged the client's (empty) certificate, so a server
// that requires one refuses with an alert only afterwards. Waits for that
// answer at most `wait` (session tickets are read past; a server that sends
// nothing more has accepted); a description of the alert when one came.
std::optional<std::string> ServerRefusedAfterHandshake(SSL* ssl, int fd, std::chrono::milliseconds wait) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() + wait;
  std::optional<std::string> refusal;
  for (int rounds = 0; rounds < 64; ++rounds) {  // bounded: a few records at most
    char byte;
    ERR_clear_error();
    int n = SSL_peek(ssl, &byte, 1);
    if (n > 0) break;  // application data: accepted
    int error = SSL_get_error(ssl, n);
    if (error == SSL_ERROR_ZERO_RETURN) break;
    if (error != SSL_ERROR_WANT_READ) {
      std::string detail = internal::LastOpenSslError();
      refusal = detail.empty() ? std::string("the server closed the connection") : detail;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;  // nothing more: accepted
  }
  ERR_clear_error();
  fcntl(fd, F_SETFL, flags);
  return refusal;
}

}  // namespace

Result<TlsClientResult> ConnectTls(const TlsClientOptions& options) {
  std::string address = options.connect_to.empty() ? options.host : options.connect_to;
  PINION_ASSIGN_OR_RETURN(Socket socket, ConnectTcp(address, options.port, options.timeout));
  internal::UniquePtr<SSL> ssl(SSL_new(options.ctx));
  if (!ssl) return Error(ErrorCode::kTlsSetup, "SSL_new failed");
  SSL_set_fd(ssl.get(), socket.get());
  if (options.enforcer != nullptr) {
    PINION_TRY(options.enforcer->PrepareConnection(ssl.get(), options.host, options.port));
  } else {
    // Without an enforcer, still verify the host name the way it would.
    auto host = NormalizeHostName(options.host);
    if (!host) return std::move(host).error();
    if (IsIpLiteral(*host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), host->c_str());
    } else {
      SSL_set_tlsext_host_name(ssl.get(), host->c_str());
      SSL_set1_host(ssl.get(), host->c_str());
    }
  }
  if (options.resume != nullptr) SSL_set_session(ssl.get(), options.resume);
  bool certificate_requested = false;
  SSL_set_cert_cb(ssl.get(), &NoteCertificateRequest, &certificate_requested);

  TlsClientResult result;
  ERR_clear_error();
  int rc = SSL_connect(ssl.get());
  result.verify_result = SSL_get_verify_result(ssl.get());
  result.served_chain = ToDer(SSL_get_peer_cert_chain(ssl.get()));
  if (options.enforcer != nullptr) result.verdict = openssl::Enforcer::GetVerdict(ssl.get());
  if (rc != 1) {
    int error = SSL_get_error(ssl.get(), rc);
    if (result.verify_result != X509_V_OK) {
      result.error = std::string("certificate verification failed: ") +
                     X509_verify_cert_error_string(result.verify_result);
    } else if (error == SSL_ERROR_SYSCALL) {
      result.error = errno != 0 ? std::strerror(errno) : "connection closed during the handshake";
    } else {
      result.error = internal::LastOpenSslError();
    }
    ERR_clear_error();
    return result;
  }
  if (certificate_requested && SSL_version(ssl.get()) >= TLS1_3_VERSION) {
    if (auto refusal = ServerRefusedAfterHandshake(
            ssl.get(), socket.get(), std::min(options.timeout, std::chrono::milliseconds(2000)))) {
      result.error = "the server refused the connection after the handshake (it asked for a client "
                     "certificate): " + *refusal;
      return result;
    }
  }
  result.handshake_ok = true;
  result.resumed = SSL_session_reused(ssl.get()) == 1;
  result.protocol = SSL_get_version(ssl.get());
  result.cipher = SSL_get_cipher_name(ssl.get());
  result.validated_chain = ToDer(SSL_get0_verified_chain(ssl.get()));
  if (options.enforcer != nullptr) result.verdict = openssl::Enforcer::GetVerdict(ssl.get());
  if (options.read_reply) {
    char buffer[4096];
    for (int guard = 0; guard < 64; ++guard) {  // bounded: at most 256 KiB
      int n = SSL_read(ssl.get(), buffer, sizeof buffer);
      if (n <= 0) break;
      result.reply.append(buffer, static_cast<std::size_t>(n));
    }
  }
  result.session.reset(SSL_get1_session(ssl.get()));
  SSL_shutdown(ssl.get());
  ERR_clear_error();
  return result;
}

}  // namespace pinion::cli
