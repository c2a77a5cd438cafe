// Full TLS 1.3 handshakes with and without pin enforcement, measured in the
// same run. Two transports:
//  - MemoryBio: client and server in one thread over an OpenSSL BIO pair —
//    exactly the handshake's CPU work, no scheduler or kernel noise;
//  - Loopback: a real TCP connection to a server thread on 127.0.0.1.
// No session resumption: every iteration is a full handshake.
#include <benchmark/benchmark.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "pinion/openssl/enforcer.h"
#include "pinion/policy.h"
#include "test_pki.h"
#include "pinion/tooling/tls_client.h"
#include "tls_server.h"

namespace {

using pinion::openssl::UniquePtr;
using pinion::testing::TestPki;

constexpr char kHost[] = "api.example.test";

const TestPki& Pki() {
  static const TestPki kPki = TestPki::Create(kHost);
  return kPki;
}

pinion::PolicyStore& Store() {
  static pinion::PolicyStore store([] {
    pinion::DomainRule rule{.host = *pinion::HostPattern::Parse(kHost, false),
                            .pins = {{Pki().leaf_key.SpkiPin(), "leaf"}, {Pki().backup_key.SpkiPin(), "backup"}}};
    return *pinion::Policy::Create(1, {rule});
  }());
  return store;
}

pinion::openssl::Enforcer& SharedEnforcer() {
  static auto enforcer = *pinion::openssl::Enforcer::Create(Store());
  return *enforcer;
}

UniquePtr<SSL_CTX> ClientContext(bool pinned) {
  UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), Pki().root.x509.get());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (pinned && !SharedEnforcer().Install(ctx.get()).ok()) std::abort();
  return ctx;
}

UniquePtr<SSL_CTX> ServerContext() {
  UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_use_certificate(ctx.get(), Pki().leaf.x509.get());
  SSL_CTX_add1_chain_cert(ctx.get(), Pki().intermediate.x509.get());
  SSL_CTX_use_PrivateKey(ctx.get(), Pki().leaf_key.pkey.get());
  return ctx;
}

// One full handshake between `client_ctx` and `server_ctx` over a BIO pair.
bool HandshakeInMemory(SSL_CTX* client_ctx, SSL_CTX* server_ctx, bool pinned) {
  UniquePtr<SSL> client(SSL_new(client_ctx));
  UniquePtr<SSL> server(SSL_new(server_ctx));
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(server.get(), server_bio, server_bio);
  if (pinned) {
    if (!SharedEnforcer().Prepare(client.get(), kHost, 443).ok()) return false;
  } else {
    SSL_set_tlsext_host_name(client.get(), kHost);
    SSL_set1_host(client.get(), kHost);
  }
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  bool client_done = false, server_done = false;
  for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
    if (!client_done) client_done = SSL_do_handshake(client.get()) == 1;
    if (!server_done) server_done = SSL_do_handshake(server.get()) == 1;
  }
  return client_done && server_done;
}

void BM_Handshake_MemoryBio(benchmark::State& state) {
  bool pinned = state.range(0) == 1;
  auto client_ctx = ClientContext(pinned);
  auto server_ctx = ServerContext();
  for (auto _ : state) {
    if (!HandshakeInMemory(client_ctx.get(), server_ctx.get(), pinned)) {
      state.SkipWithError("handshake failed");
      break;
    }
  }
}
BENCHMARK(BM_Handshake_MemoryBio)->Arg(0)->Arg(1)->ArgName("pinned")->MinTime(2.0);
// Fixed counts, for instruction counting under callgrind: the difference
// between 400 and 200 handshakes is the per-handshake cost without any
// one-time setup (bench/handshake_callgrind.sh).
BENCHMARK(BM_Handshake_MemoryBio)->Name("FixedCount200/BM_Handshake_MemoryBio")->Arg(0)->Arg(1)
    ->ArgName("pinned")->Iterations(200);
BENCHMARK(BM_Handshake_MemoryBio)->Name("FixedCount400/BM_Handshake_MemoryBio")->Arg(0)->Arg(1)
    ->ArgName("pinned")->Iterations(400);

void BM_Handshake_Loopback(benchmark::State& state) {
  bool pinned = state.range(0) == 1;
  static auto* server = new pinion::testing::LoopbackTlsServer(
      {.chain_pem = Pki().LeafChainPem(), .key_pem = Pki().leaf_key.PrivatePem(), .min_version = TLS1_3_VERSION});
  auto ctx = ClientContext(pinned);
  for (auto _ : state) {
    auto result = pinion::tooling::ConnectTls({.host = kHost, .port = server->port(), .connect_to = "127.0.0.1",
                                           .ctx = ctx.get(), .enforcer = pinned ? &SharedEnforcer() : nullptr});
    if (!result.ok() || !result->handshake_ok) {
      state.SkipWithError("handshake failed");
      break;
    }
  }
}
BENCHMARK(BM_Handshake_Loopback)->Arg(0)->Arg(1)->ArgName("pinned")->MinTime(2.0)->UseRealTime();

}  // namespace
