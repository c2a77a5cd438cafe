// collector/http/router.h — which handler answers a request.
//
// Routes are tried in the order they were added; the first whose method
// matches and whose pattern matches the whole path wins. A pattern without
// regex characters is compared as a string; one with groups is an ECMAScript
// regex whose groups become HttpRequest::captures.
//
//   Router router;
//   router.Add("GET", "/healthz", Router::kOnWorker, Health);
//   router.Add("GET", R"(/v1/reports/(\d{1,18}))", Router::kOnWorker, OneReport);
//   const Router::Route* route = router.Find(request);  // null: 404
#ifndef PINION_COLLECTOR_HTTP_ROUTER_H_
#define PINION_COLLECTOR_HTTP_ROUTER_H_

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "http/message.h"

namespace pinion::collector {

class Router {
 public:
  // Dispatch says where the server runs a route's handler (http/server.h):
  // on the one I/O thread, which it must never block, or on a worker.
  enum Dispatch { kOnIoThread, kOnWorker };

  struct Route {
    std::string method;
    std::string exact;                // plain paths: compared as strings
    std::optional<std::regex> regex;  // patterns with groups
    Dispatch dispatch;
    HttpHandler handler;
  };

  // Add serves `method` requests whose path matches `pattern`.
  void Add(std::string method, const std::string& pattern, Dispatch dispatch, HttpHandler handler);

  // Find returns the first route for the request's method and path and puts
  // the pattern's groups in request.captures; null when no route matches.
  // The route lives as long as the router.
  const Route* Find(HttpRequest& request) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_ROUTER_H_
