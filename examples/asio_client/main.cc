// A Boost.Asio client that pins with pinion, asynchronously.
//
//   asio_client HOST PORT POLICY.toml [CA_BUNDLE.pem] [CONNECT_ADDRESS]
//
// Resolves and connects (to CONNECT_ADDRESS if given), runs an asynchronous
// TLS handshake validating and pinning HOST, prints the verdict.
// Exit codes: 0 accepted, 1 pin failure (explained), 2 usage, 3 TLS/network error.
#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <iostream>

#include "pinion/asio/pinning.h"
#include "pinion/policy_loader.h"

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    std::cerr << "usage: asio_client HOST PORT POLICY.toml [CA_BUNDLE.pem] [CONNECT_ADDRESS]\n";
    return 2;
  }
  std::string host = argv[1];
  std::string port = argv[2];
  auto policy = pinion::LoadPolicyFile(argv[3]);
  if (!policy) {
    std::cerr << policy.error().ToString() << "\n";
    return 2;
  }
  pinion::PolicyStore store(*policy);
  auto pinning = pinion::asio::Pinning::Create(store);
  if (!pinning) {
    std::cerr << pinning.error().ToString() << "\n";
    return 2;
  }

  namespace net = boost::asio;
  net::io_context io;
  net::ssl::context context(net::ssl::context::tls_client);
  boost::system::error_code error;
  if (argc >= 5) {
    context.load_verify_file(argv[4], error);
  } else {
    context.set_default_verify_paths(error);
  }
  if (error || !(*pinning)->Install(context).ok()) {
    std::cerr << "cannot set up the TLS context: " << error.message() << "\n";
    return 3;
  }
  net::ssl::stream<net::ip::tcp::socket> stream(io, context);
  if (auto prepared = (*pinning)->Prepare(stream, host, static_cast<std::uint16_t>(std::stoi(port))); !prepared.ok()) {
    std::cerr << prepared.error().ToString() << "\n";
    return 2;
  }
  net::ip::tcp::resolver resolver(io);
  int exit_code = 3;
  net::async_connect(stream.lowest_layer(), resolver.resolve(argc == 6 ? argv[5] : host, port, error),
                     [&](const boost::system::error_code& connected, const net::ip::tcp::endpoint&) {
                       if (connected) {
                         std::cerr << "cannot connect: " << connected.message() << "\n";
                         return;
                       }
                       stream.async_handshake(net::ssl::stream_base::client, [&](const boost::system::error_code& done) {
                         if (!done) {
                           std::cout << pinion::asio::Pinning::VerdictOf(stream)->Summary() << "\n";
                           exit_code = 0;
                         } else if (pinion::asio::Pinning::IsPinFailure(stream)) {
                           std::cout << pinion::asio::Pinning::VerdictOf(stream)->Explain() << "\n";
                           exit_code = 1;
                         } else {
                           std::cerr << "TLS handshake failed: " << done.message() << "\n";
                         }
                       });
                     });
  io.run();
  return exit_code;
}
