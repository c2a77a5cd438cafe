#include "http/json_response.h"

namespace pinion::collector {

// Reports carry text an attacker wrote: never cached by a proxy or browser,
// never sniffed into something a browser would run.
HttpResponse JsonResponse(const Json& body, int status) {
  return HttpResponse::Content(status, body.dump(-1, ' ', false, Json::error_handler_t::replace),
                               "application/json")
      .Set("Cache-Control", "no-store")
      .Set("X-Content-Type-Options", "nosniff");
}

HttpResponse ErrorResponse(int status, std::string_view code, const std::string& message,
                           const std::string& field) {
  Json body = {{"error", {{"code", code}, {"message", message}}}};
  if (!field.empty()) body["error"]["field"] = field;
  return JsonResponse(body, status);
}

HttpResponse ErrorResponse(int status, const Error& error) {
  return ErrorResponse(status, ErrorCodeName(error.code()), error.message(), error.field());
}

HttpResponse ServerErrorResponse(int status) {
  switch (status) {
    case 404:
      return ErrorResponse(404, "not_found", "no such endpoint");
    case 413:
      return ErrorResponse(413, "input_too_large", "the body is larger than the collector accepts");
    case 500:
      return ErrorResponse(500, "internal", "the collector failed on this request");
    default:
      return ErrorResponse(status, "http_error", "request refused");
  }
}

}  // namespace pinion::collector
