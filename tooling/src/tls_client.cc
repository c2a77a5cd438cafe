#include "pinion/tooling/tls_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "pinion/openssl/util.h"
#include "pinion/tooling/host_port.h"
#include "pinion/host_pattern.h"

namespace pinion::tooling {
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

ConnectProblem ProblemOfErrno(int error) {
  switch (error) {
    case ECONNREFUSED: return ConnectProblem::kRefused;
    case ETIMEDOUT:
    case EAGAIN: return ConnectProblem::kTimedOut;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT: return ConnectProblem::kUnreachable;
    default: return ConnectProblem::kClosed;
  }
}

std::string Seconds(std::chrono::milliseconds timeout) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(timeout.count()) / 1000.0);
  return text;
}

// Connects with a deadline: non-blocking connect, poll, then back to blocking
// with send/receive timeouts for the TLS layer.
Result<Socket> ConnectTcp(const std::string& address, std::uint16_t port,
                          std::chrono::milliseconds timeout, ConnectProblem& problem) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(address.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    problem = ConnectProblem::kCannotResolve;
    return Error(ErrorCode::kNetwork, "cannot resolve '" + address + "': " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  std::string last_error = "no address";
  problem = ConnectProblem::kUnreachable;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    Socket socket(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (socket.get() < 0) {
      last_error = std::strerror(errno);
      problem = ProblemOfErrno(errno);
      continue;
    }
    int flags = fcntl(socket.get(), F_GETFL);
    fcntl(socket.get(), F_SETFL, flags | O_NONBLOCK);
    if (connect(socket.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      problem = ProblemOfErrno(errno);
      continue;
    }
    pollfd pfd{socket.get(), POLLOUT, 0};
    int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) {
      last_error = ready == 0 ? "no answer within " + Seconds(timeout) : std::strerror(errno);
      problem = ready == 0 ? ConnectProblem::kTimedOut : ProblemOfErrno(errno);
      continue;
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &so_error, &length);
    if (so_error != 0) {
      last_error = std::strerror(so_error);
      problem = ProblemOfErrno(so_error);
      continue;
    }
    fcntl(socket.get(), F_SETFL, flags);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return socket;
  }
  std::string what = problem == ConnectProblem::kRefused    ? "connection refused by "
                     : problem == ConnectProblem::kTimedOut ? "connection timed out to "
                                                            : "cannot connect to ";
  return Error(ErrorCode::kNetwork, what + FormatHostPort(address, port) + ": " + last_error);
}

}  // namespace

ConnectProblem ProblemOfVerifyResult(long verify_result, std::size_t served) {
  switch (verify_result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      // A lone leaf whose issuer the store lacks: the intermediate was not sent.
      return served <= 1 ? ConnectProblem::kMissingIntermediate : ConnectProblem::kUntrustedIssuer;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED: return ConnectProblem::kUntrustedIssuer;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: return ConnectProblem::kExpired;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return ConnectProblem::kNameMismatch;
    default: return ConnectProblem::kValidation;
  }
}

namespace {

std::vector<std::vector<std::uint8_t>> ToDer(STACK_OF(X509) * stack) {
  std::vector<std::vector<std::uint8_t>> out;
  for (int i = 0; stack != nullptr && i < sk_X509_num(stack); ++i) {
    out.push_back(openssl::CertificateDer(sk_X509_value(stack, i)));
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
      std::string detail = openssl::LastOpenSslError();
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


ErrorCode ErrorCodeOf(ConnectProblem problem) {
  switch (problem) {
    case ConnectProblem::kNone:
    case ConnectProblem::kHandshake: return ErrorCode::kTlsHandshake;
    case ConnectProblem::kCannotResolve:
    case ConnectProblem::kRefused:
    case ConnectProblem::kTimedOut:
    case ConnectProblem::kUnreachable:
    case ConnectProblem::kClosed: return ErrorCode::kNetwork;
    case ConnectProblem::kNameMismatch: return ErrorCode::kHostnameMismatch;
    case ConnectProblem::kMissingIntermediate:
    case ConnectProblem::kUntrustedIssuer:
    case ConnectProblem::kExpired:
    case ConnectProblem::kValidation: return ErrorCode::kChainValidation;
  }
  return ErrorCode::kTlsHandshake;
}

std::string ConnectProblemHint(ConnectProblem problem) {
  switch (problem) {
    case ConnectProblem::kNone: return "";
    case ConnectProblem::kCannotResolve:
      return "Check the spelling of the host, or dial an address with --connect-to ADDRESS[:PORT].";
    case ConnectProblem::kRefused:
      return "Nothing accepts connections on that address and port: check the port, that the service runs, "
             "and --connect-to. This is a network error; no certificate was seen.";
    case ConnectProblem::kTimedOut:
      return "The server did not answer within --timeout: check firewalls and the port (a non-TLS port "
             "never answers a ClientHello), or raise --timeout.";
    case ConnectProblem::kUnreachable:
      return "There is no route to that address: check the network, the address family (IPv4/IPv6) and "
             "--connect-to.";
    case ConnectProblem::kClosed:
      return "The server closed the connection during the handshake: check that the port speaks TLS and "
             "accepts this host name (SNI).";
    case ConnectProblem::kHandshake:
      return "The TLS handshake failed before any certificate was judged: check the protocol versions and "
             "whether the server wants a client certificate.";
    case ConnectProblem::kMissingIntermediate:
      return "The server sent its leaf certificate without the intermediate that issued it, so no path to "
             "a trusted root can be built (browsers may hide this by fetching it). Configure the server to "
             "send its full chain (leaf, then intermediates).";
    case ConnectProblem::kUntrustedIssuer:
      return "The chain leads to a root this trust store does not hold: pass the right root with --ca-file, "
             "or check that the server sends the chain you expect.";
    case ConnectProblem::kExpired:
      return "A certificate is outside its validity period: renew it, or check this machine's clock.";
    case ConnectProblem::kNameMismatch:
      return "The certificate's subjectAltName does not list this host name (or IP): check the target, or "
             "use --connect-to to dial another address while keeping the name.";
    case ConnectProblem::kValidation:
      return "Normal TLS validation (path, validity, host name) rejected the chain; pins were not consulted.";
  }
  return "";
}

Result<TlsClientResult> ConnectTls(const TlsClientOptions& options) {
  ConnectProblem ignored = ConnectProblem::kNone;
  ConnectProblem& problem = options.problem != nullptr ? *options.problem : ignored;
  problem = ConnectProblem::kNone;
  // A name no policy or certificate could carry is a usage error, before any packet is sent.
  auto normalized = NormalizeHostName(options.host);
  if (!normalized) return std::move(normalized).error();
  PINION_ASSIGN_OR_RETURN(HostPort dial, ResolveConnectTo(options.connect_to, {options.host, options.port}));
  PINION_ASSIGN_OR_RETURN(Socket socket, ConnectTcp(dial.host, dial.port, options.timeout, problem));
  openssl::UniquePtr<SSL> ssl(SSL_new(options.ctx));
  if (!ssl) return Error(ErrorCode::kTlsSetup, "SSL_new failed");
  SSL_set_fd(ssl.get(), socket.get());
  if (options.enforcer != nullptr) {
    PINION_TRY(options.enforcer->Prepare(ssl.get(), options.host, options.port));
  } else {
    // Without an enforcer, still verify the host name the way it would.
    const std::string* host = &*normalized;
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
  if (options.enforcer != nullptr) result.verdict = openssl::Enforcer::VerdictOf(ssl.get());
  if (rc != 1) {
    int error = SSL_get_error(ssl.get(), rc);
    int saved_errno = errno;
    if (result.verify_result != X509_V_OK) {
      result.problem = ProblemOfVerifyResult(result.verify_result, result.served_chain.size());
      result.error = std::string("certificate verification failed: ") +
                     X509_verify_cert_error_string(result.verify_result);
      if (result.problem == ConnectProblem::kMissingIntermediate) {
        result.error += " (the server sent only its leaf certificate, not the intermediate that issued it)";
      }
    } else if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ||
               (error == SSL_ERROR_SYSCALL && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))) {
      // SO_RCVTIMEO expired: TCP was accepted, but no TLS answer came.
      result.problem = ConnectProblem::kTimedOut;
      result.error = "the server accepted the connection but sent no TLS answer within " + Seconds(options.timeout);
    } else if (error == SSL_ERROR_SYSCALL) {
      result.problem = ConnectProblem::kClosed;
      result.error = saved_errno != 0 ? std::strerror(saved_errno) : "connection closed during the handshake";
    } else {
      result.problem = ConnectProblem::kHandshake;
      result.error = openssl::LastOpenSslError();
    }
    problem = result.problem;
    ERR_clear_error();
    return result;
  }
  if (certificate_requested && SSL_version(ssl.get()) >= TLS1_3_VERSION) {
    if (auto refusal = ServerRefusedAfterHandshake(
            ssl.get(), socket.get(), std::min(options.timeout, std::chrono::milliseconds(2000)))) {
      result.error = "the server refused the connection after the handshake (it asked for a client "
                     "certificate): " + *refusal;
      result.problem = ConnectProblem::kHandshake;
      problem = result.problem;
      return result;
    }
  }
  result.handshake_ok = true;
  // A verify callback that lets every chain through (fetch) still wants to know why.
  if (result.verify_result != X509_V_OK) {
    result.problem = ProblemOfVerifyResult(result.verify_result, result.served_chain.size());
  }
  result.resumed = SSL_session_reused(ssl.get()) == 1;
  result.protocol = SSL_get_version(ssl.get());
  result.cipher = SSL_get_cipher_name(ssl.get());
  result.validated_chain = ToDer(SSL_get0_verified_chain(ssl.get()));
  if (options.enforcer != nullptr) result.verdict = openssl::Enforcer::VerdictOf(ssl.get());
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

}  // namespace pinion::tooling
