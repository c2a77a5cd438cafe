// collector/http/message.h — a request as a handler sees it and the response
// it gives: plain values, with no trace of Beast, so routes, handlers and
// tests need nothing of the server.
#ifndef PINION_COLLECTOR_HTTP_MESSAGE_H_
#define PINION_COLLECTOR_HTTP_MESSAGE_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pinion::collector {

struct HttpRequest {
  std::string method;
  std::string path;                           // without the query
  std::map<std::string, std::string> params;  // query parameters, percent-decoded
  std::vector<std::string> captures;          // the route pattern's groups
  std::string body;
  std::string remote_address;
  std::map<std::string, std::string> headers;  // names lower-cased

  std::string Header(const std::string& lower_case_name) const;
  bool HasParam(const std::string& name) const { return params.contains(name); }
  std::string Param(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  HttpResponse& Set(std::string name, std::string value);
  static HttpResponse Content(int status, std::string body, std::string content_type);
};

// HttpResponder sends the response; call it exactly once, from any thread.
using HttpResponder = std::function<void(HttpResponse)>;
// A handler may take what it needs out of the request (it is the handler's
// alone during the call) and answer now or later through the responder.
using HttpHandler = std::function<void(HttpRequest&, HttpResponder)>;

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_MESSAGE_H_
