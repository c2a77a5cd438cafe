// pinion::asio::Pinning with standalone Asio: synchronous and asynchronous
// handshakes against a real TLS server on 127.0.0.1 serving the real chain or
// a rogue-CA chain that the client's trust store also holds.
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <gtest/gtest.h>

#include "pinion/asio/pinning.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"
#include "tls_server.h"

namespace pinion::asio {
namespace {

using pinion::testing::LoopbackTlsServer;
using pinion::testing::TempDir;
using pinion::testing::TestPki;

struct Flavour {
  using IoContext = ::asio::io_context;
  using Context = ::asio::ssl::context;
  using Stream = ::asio::ssl::stream<::asio::ip::tcp::socket>;
  using Endpoint = ::asio::ip::tcp::endpoint;
  using ErrorCode = std::error_code;
  static constexpr auto kClient = ::asio::ssl::stream_base::client;
  static constexpr auto kTlsClient = ::asio::ssl::context::tls_client;
  static constexpr auto kVerifyNone = ::asio::ssl::verify_none;
  static auto Loopback() { return ::asio::ip::make_address("127.0.0.1"); }
};

#include "pinning_cases.inc"

}  // namespace
}  // namespace pinion::asio
