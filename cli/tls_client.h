// A TLS client connection for the CLI and the tests: TCP connect with a
// timeout, handshake (optionally under a pinion Enforcer), and what was seen.
#ifndef PINION_CLI_TLS_CLIENT_H_
#define PINION_CLI_TLS_CLIENT_H_

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "internal/openssl_ptr.h"
#include "pinion/openssl/enforcer.h"
#include "pinion/result.h"
#include "pinion/verdict.h"

namespace pinion::cli {

struct TlsClientOptions {
  std::string host;        // SNI, host-name verification and pins use this name
  std::uint16_t port = 443;
  std::string connect_to;  // address actually dialled (default: host), like curl --connect-to
  std::chrono::milliseconds timeout{10000};
  SSL_CTX* ctx = nullptr;                 // configured by the caller (trust store, enforcer)
  openssl::Enforcer* enforcer = nullptr;  // when set, pins are enforced
  SSL_SESSION* resume = nullptr;          // session to offer for resumption
  bool read_reply = false;                // read until the server closes (collects TLS 1.3 tickets)
};

struct TlsClientResult {
  bool handshake_ok = false;
  long verify_result = 0;  // X509_V_OK when validation passed
  std::string error;       // why the handshake failed
  std::vector<std::vector<std::uint8_t>> served_chain;     // as sent by the server
  std::vector<std::vector<std::uint8_t>> validated_chain;  // as built by OpenSSL
  // With an enforcer. Made when the certificate arrived, before the server
  // proved it holds the key: present after a failed handshake too, so it is
  // never a success on its own — only handshake_ok is.
  std::shared_ptr<const Verdict> verdict;
  internal::UniquePtr<SSL_SESSION> session;
  bool resumed = false;
  std::string protocol;
  std::string cipher;
  std::string reply;
};

// ConnectTls fails (kNetwork) only when no TCP connection could be made or
// the socket broke; a failed handshake is a result with handshake_ok = false.
Result<TlsClientResult> ConnectTls(const TlsClientOptions& options);

}  // namespace pinion::cli

#endif  // PINION_CLI_TLS_CLIENT_H_
