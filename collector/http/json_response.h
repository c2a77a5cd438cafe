// collector/http/json_response.h — the collector's JSON answers, success and
// error alike, with the headers every answer carrying report data needs.
//
//   respond(JsonResponse({{"id", 42}}, 202));
//   respond(ErrorResponse(400, parse_error));  // {"error": {"code", "message", "field"}}
#ifndef PINION_COLLECTOR_HTTP_JSON_RESPONSE_H_
#define PINION_COLLECTOR_HTTP_JSON_RESPONSE_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http/message.h"
#include "pinion/result.h"

namespace pinion::collector {

using Json = nlohmann::ordered_json;

// JsonResponse is `body` with `status`, never cached and never sniffed.
// Invalid UTF-8 in strings (text an attacker wrote) is replaced, not thrown on.
HttpResponse JsonResponse(const Json& body, int status = 200);

// ErrorResponse is {"error": {"code": CODE, "message": MESSAGE[, "field": FIELD]}}.
HttpResponse ErrorResponse(int status, std::string_view code, const std::string& message,
                           const std::string& field = "");
// This form takes the code name, message and field from `error`.
HttpResponse ErrorResponse(int status, const Error& error);

// ServerErrorResponse is the answer the server gives by itself (HttpErrorBody):
// unknown paths, oversized bodies, unreadable HTTP, a handler that threw.
HttpResponse ServerErrorResponse(int status);

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_JSON_RESPONSE_H_
