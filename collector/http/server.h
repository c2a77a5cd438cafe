// collector/http/server.h — the collector's HTTP(S) server, on Boost.Beast.
//
// One I/O thread drives every connection (event-driven: no thread per
// connection and no thread wake-up per request). Routes marked Router::kOnIoThread
// run there and must not block: report ingestion parses, queues the report
// for group commit and answers when the commit lands, from the committing
// thread. Other routes block on database queries and run on a small pool of
// worker threads. Why not a thread per connection: on two cores, parking and
// waking a worker around every commit cost more CPU than the insert itself
// (docs/COLLECTOR.md, "HTTP").
//
// Which handler answers a request is the router's business (http/router.h);
// the server only reads, dispatches and writes.
//
//   Router router;
//   router.Add("GET", "/healthz", Router::kOnWorker, [](HttpRequest&, HttpResponder respond) {
//     respond(HttpResponse::Content(200, "ok", "text/plain"));
//   });
//   auto server = HttpServer::Create(options, std::move(router));
//   int port = *(*server)->Bind();
//   (*server)->Run();  // until Stop()
#ifndef PINION_COLLECTOR_HTTP_SERVER_H_
#define PINION_COLLECTOR_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/router.h"
#include "pinion/result.h"

namespace pinion::collector {

// HttpErrorBody makes the body of a response the server itself gives (404,
// 413, 400 for unreadable HTTP, 500 when a handler throws).
using HttpErrorBody = std::function<HttpResponse(int status)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port
  std::string tls_certificate;  // PEM chain; with tls_key: HTTPS only
  std::string tls_key;
  std::size_t max_body = 64 * 1024;
  std::chrono::seconds read_timeout{5};  // per request, and for the TLS handshake
  std::size_t workers = 8;
  HttpErrorBody error_body;
};

class HttpServer {
 public:
  // Create serves the routes of `router` (kInvalidArgument for half a TLS
  // configuration, kTlsSetup when the certificate or key does not load).
  static Result<std::unique_ptr<HttpServer>> Create(HttpServerOptions options, Router router);
  ~HttpServer();

  // Every runs `task` on a worker thread every `period` while the server
  // runs, the first time as Run starts. A run that takes longer than the
  // period delays the next (never two at once). Call before Run.
  void Every(std::chrono::seconds period, std::function<void()> task);

  Result<int> Bind();  // opens the listening socket; returns the port
  void Run();          // serves until Stop (blocking)
  void Stop();         // from any thread

  // Exchange answers the requests in `bytes` as a connection from
  // `remote_address` would have them answered, without a socket: the same
  // parser and limits, routes and error answers (413, 400), one request after
  // another until the bytes end or the connection would close, with a 100 where
  // the client waits for one. For tests and fuzzing (fuzz/collector_http_fuzzer.cc);
  // blocks until every answer is in. Needs no Bind or Run.
  std::vector<HttpResponse> Exchange(std::string_view bytes, const std::string& remote_address);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_SERVER_H_
