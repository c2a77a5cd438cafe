// A TLS client that pins with pinion on plain OpenSSL.
//
//   openssl_client HOST PORT POLICY.toml [CA_BUNDLE.pem] [CONNECT_ADDRESS]
//
// Connects to HOST:PORT (or to CONNECT_ADDRESS, still validating and pinning
// HOST), validates the chain against the system store or CA_BUNDLE, then
// checks the validated chain against the policy. Exit codes: 0 accepted,
// 1 pin failure (the verdict is explained), 2 usage, 3 TLS/network error.
//
// Built with PINION_STATIC_POLICY_HEADER (the `static_client` target), the
// same program is a server-to-server client whose policy is compiled in
// (`pinion export --to cpp`), usually with the private CA as the rule's
// `anchors`: no file is read at run time and the system store is not trusted
// for that host:
//
//   static_client HOST PORT - [CA_BUNDLE.pem|-] [CONNECT_ADDRESS]
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <iostream>
#include <memory>
#include <string>

#include "pinion/openssl/enforcer.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_store.h"
#ifdef PINION_STATIC_POLICY_HEADER
#include PINION_STATIC_POLICY_HEADER  // defines pinion_generated::LoadPolicy()
#endif

namespace {

int Connect(const std::string& address, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(address.c_str(), port.c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* it = found; it != nullptr && fd < 0; it = it->ai_next) {
    fd = socket(it->ai_family, it->ai_socktype, it->ai_protocol);
    if (fd >= 0 && connect(fd, it->ai_addr, it->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    std::cerr << "usage: openssl_client HOST PORT POLICY.toml [CA_BUNDLE.pem] [CONNECT_ADDRESS]\n";
    return 2;
  }
  std::string host = argv[1];
  std::string port = argv[2];
#ifdef PINION_STATIC_POLICY_HEADER
  auto policy = pinion_generated::LoadPolicy();  // argv[3] is "-": the policy is compiled in
#else
  auto policy = pinion::LoadPolicyFile(argv[3]);
#endif
  if (!policy) {
    std::cerr << policy.error().ToString() << "\n";
    return 2;
  }
  pinion::PolicyStore store(*policy);
  auto enforcer = pinion::openssl::Enforcer::Create(store);
  if (!enforcer) {
    std::cerr << enforcer.error().ToString() << "\n";
    return 2;
  }

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  bool bundle_given = argc >= 5 && std::string(argv[4]) != "-";  // "-": the system store
  bool trust_loaded = bundle_given ? SSL_CTX_load_verify_locations(ctx.get(), argv[4], nullptr) == 1
                                   : SSL_CTX_set_default_verify_paths(ctx.get()) == 1;
  if (!trust_loaded || !(*enforcer)->Install(ctx.get()).ok()) {
    std::cerr << "cannot set up the TLS context\n";
    return 3;
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  // SNI, host-name verification and pinning for `host`, on top of chain validation.
  if (auto prepared = (*enforcer)->Prepare(ssl.get(), host, static_cast<std::uint16_t>(std::stoi(port)));
      !prepared.ok()) {
    std::cerr << prepared.error().ToString() << "\n";
    return 2;
  }
  int fd = Connect(argc == 6 ? argv[5] : host, port);
  if (fd < 0) {
    std::cerr << "cannot connect to " << host << ":" << port << "\n";
    return 3;
  }
  SSL_set_fd(ssl.get(), fd);
  int connected = SSL_connect(ssl.get());
  close(fd);
  if (connected == 1) {
    std::cout << pinion::openssl::Enforcer::VerdictOf(ssl.get())->Summary() << "\n";
    return 0;
  }
  if (pinion::openssl::Enforcer::IsPinFailure(ssl.get())) {
    std::cout << pinion::openssl::Enforcer::VerdictOf(ssl.get())->Explain() << "\n";
    return 1;
  }
  std::cerr << "TLS handshake failed: " << ERR_reason_error_string(ERR_get_error()) << "\n";
  return 3;
}
