// pinion/asio/pinning.h — pin enforcement for asio::ssl::stream, with
// Boost.Asio or standalone Asio, from synchronous or asynchronous code.
//
//   auto pinning = pinion::asio::Pinning::Create(store);
//   boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
//   ctx.set_default_verify_paths();
//   (*pinning)->Install(ctx);                          // once per context
//   boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(io, ctx);
//   (*pinning)->Prepare(stream, "api.example.com", 443); // SNI, host name check, pins
//   boost::asio::connect(stream.lowest_layer(), endpoints);
//   stream.async_handshake(boost::asio::ssl::stream_base::client, [&](auto ec) {
//     if (ec && pinion::asio::Pinning::IsPinFailure(stream))
//       log(pinion::asio::Pinning::VerdictOf(stream)->Explain());
//   });
//
// How: the OpenSSL Enforcer is installed on the context's SSL_CTX
// (native_handle) as its certificate-verification hook, so the pins are
// checked inside the handshake on the chain OpenSSL validated, after normal
// validation; Prepare turns on peer verification and host-name checking for
// the stream's SSL. A pin failure fails the handshake like any verification
// error (asio's ssl error category); IsPinFailure and VerdictOf tell it
// apart. Only the streams' and contexts' native_handle() is used, so the same
// code serves boost::asio::ssl and ::asio::ssl. Do not call
// set_verify_mode(verify_none) on a pinned stream: it would make OpenSSL
// ignore every verification failure, pins included.
#ifndef PINION_ASIO_PINNING_H_
#define PINION_ASIO_PINNING_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "pinion/openssl/enforcer.h"
#include "pinion/policy_store.h"
#include "pinion/result.h"
#include "pinion/verdict.h"

namespace pinion::asio {

class Pinning {
 public:
  // Create reads policies from `store`, which must outlive the Pinning; the
  // Pinning must outlive the contexts it is installed on.
  static Result<std::unique_ptr<Pinning>> Create(PolicyStore& store, openssl::EnforcerOptions options = {}) {
    PINION_ASSIGN_OR_RETURN(auto enforcer, openssl::Enforcer::Create(store, std::move(options)));
    return std::unique_ptr<Pinning>(new Pinning(std::move(enforcer)));
  }

  // Install enforces the policy on every stream made from `context`
  // (asio::ssl::context or boost::asio::ssl::context).
  template <typename SslContext>
  Status Install(SslContext& context) {
    return enforcer_->Install(context.native_handle());
  }
  template <typename SslContext>
  [[deprecated("use Install")]] Status InstallOn(SslContext& context) {
    return Install(context);
  }

  // Prepare names the host (and port, for reports) `stream` connects to:
  // SNI, host-name verification and the pins of that host. Call before the handshake.
  template <typename SslStream>
  Status Prepare(SslStream& stream, std::string_view host, std::uint16_t port) {
    return enforcer_->Prepare(stream.native_handle(), host, port);
  }

  // VerdictOf is the verdict of `stream`'s handshake (null before it, or when
  // normal validation failed first).
  template <typename SslStream>
  static std::shared_ptr<const Verdict> VerdictOf(SslStream& stream) {
    return openssl::Enforcer::VerdictOf(stream.native_handle());
  }
  // IsPinFailure: the handshake failed because of the pins (not validation or the network).
  template <typename SslStream>
  static bool IsPinFailure(SslStream& stream) {
    return openssl::Enforcer::IsPinFailure(stream.native_handle());
  }

  openssl::Enforcer& enforcer() { return *enforcer_; }

 private:
  explicit Pinning(std::unique_ptr<openssl::Enforcer> enforcer) : enforcer_(std::move(enforcer)) {}
  std::unique_ptr<openssl::Enforcer> enforcer_;
};

}  // namespace pinion::asio

#endif  // PINION_ASIO_PINNING_H_
