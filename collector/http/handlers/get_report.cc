// GET /v1/reports/ID: one report's body exactly as the client sent it.
#include <string>
#include <utility>

#include "http/handlers.h"
#include "http/json_response.h"
#include "store/report_store.h"

namespace pinion::collector {

void GetReport(RouteContext& context, HttpRequest& request, HttpResponder respond) {
  auto body = context.store.Body(std::stoll(request.captures[0]));
  if (!body) return respond(ErrorResponse(503, body.error()));
  if (!body->has_value()) return respond(ErrorResponse(404, "not_found", "no report with this id"));
  // The body is the client's own bytes: a browser must treat it as inert JSON.
  respond(HttpResponse::Content(200, std::move(**body), "application/json")
              .Set("Cache-Control", "no-store")
              .Set("X-Content-Type-Options", "nosniff")
              .Set("Content-Security-Policy", "default-src 'none'; sandbox"));
}

}  // namespace pinion::collector
