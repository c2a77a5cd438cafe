// GET /v1/summary: failures per host and reason, per time bucket, and the
// unexpected pins seen most (by default over the last 24 hours).
#include <chrono>

#include "http/handlers.h"
#include "http/json_response.h"
#include "http/query_params.h"
#include "pinion/certificate_info.h"
#include "store/report_store.h"

namespace pinion::collector {

void GetSummary(RouteContext& context, HttpRequest& request, HttpResponder respond) {
  TimePoint now = context.clock.Now();
  auto since = TimeParam(request, "since");
  auto until = TimeParam(request, "until");
  auto bucket = IntegerParam(request, "bucket", 3600, 60, 86400 * 31);
  for (const Error* error : {since ? nullptr : &since.error(), until ? nullptr : &until.error(),
                             bucket ? nullptr : &bucket.error()}) {
    if (error != nullptr) return respond(ErrorResponse(400, *error));
  }
  SummaryQuery query{.since = since->value_or(now - std::chrono::hours(24)),
                     .until = until->value_or(now + std::chrono::seconds(1)),
                     .bucket = std::chrono::seconds(*bucket)};
  auto summary = context.store.Summarize(query);
  if (!summary) return respond(ErrorResponse(503, summary.error()));
  Json buckets = Json::array();
  for (const auto& item : summary->buckets) {
    buckets.push_back({{"start", FormatUtc(item.start)},
                       {"hostname", item.hostname},
                       {"reason", item.reason},
                       {"count", item.count}});
  }
  Json totals = Json::array();
  for (const auto& item : summary->totals) {
    totals.push_back({{"hostname", item.hostname}, {"reason", item.reason}, {"count", item.count}});
  }
  Json pins = Json::array();
  for (const auto& item : summary->top_unexpected_pins)
    pins.push_back({{"pin", item.pin}, {"count", item.count}});
  respond(JsonResponse({{"since", FormatUtc(query.since)},
                        {"until", FormatUtc(query.until)},
                        {"bucket_seconds", query.bucket.count()},
                        {"total", summary->total},
                        {"per_host", totals},
                        {"buckets", buckets},
                        {"top_unexpected_pins", pins}}));
}

}  // namespace pinion::collector
