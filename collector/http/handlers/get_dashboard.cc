// GET /: the dashboard page (http/dashboard.h) over the last two days.
#include <chrono>
#include <utility>

#include "http/dashboard.h"
#include "http/handlers.h"
#include "http/json_response.h"
#include "store/report_store.h"

namespace pinion::collector {

void GetDashboard(RouteContext& context, HttpRequest&, HttpResponder respond) {
  DashboardData data;
  data.now = context.clock.Now();
  data.window_start = data.now - std::chrono::hours(47);
  data.window_start -= data.window_start.time_since_epoch() % std::chrono::hours(1);
  data.policy = context.policy;
  data.database = SqlDialectName(context.store.dialect());
  auto summary = context.store.Summarize(
      {.since = data.window_start, .until = data.now + std::chrono::seconds(1)});
  auto latest = context.store.List({.limit = 20});
  if (!summary) return respond(ErrorResponse(503, summary.error()));
  if (!latest) return respond(ErrorResponse(503, latest.error()));
  data.summary = std::move(*summary);
  data.latest = std::move(latest->reports);
  respond(HttpResponse::Content(200, RenderDashboard(data), "text/html; charset=utf-8")
              .Set("Cache-Control", "no-store")
              .Set("X-Content-Type-Options", "nosniff")
              .Set("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; img-src data:"));
}

}  // namespace pinion::collector
