// GET /v1/reports: stored reports, newest first, filtered by host, reason and
// time, a page at a time (?cursor= is the last page's next_cursor).
#include <cstdint>

#include "http/handlers.h"
#include "http/json_response.h"
#include "http/query_params.h"
#include "pinion/certificate_info.h"
#include "store/report_store.h"

namespace pinion::collector {
namespace {

Json ReportJson(const StoredReport& report) {
  return {
      {"id", report.id},
      {"received_at", FormatUtc(report.received_at)},
      {"date_time", FormatUtc(report.date_time)},
      {"hostname", report.hostname},
      {"port", report.port},
      {"noted_hostname", report.noted_hostname},
      {"format", report.format},
      {"mode", report.mode},
      {"reason", report.reason},
      {"policy_version", report.policy_version},
      {"app",
       {{"id", report.app.id}, {"version", report.app.version}, {"platform", report.app.platform}}},
      {"dropped_reports", report.dropped_reports},
      {"known_pins", report.known_pins},
      {"validated_chain_pins", report.chain_pins}};
}

}  // namespace

void GetReports(RouteContext& context, HttpRequest& request, HttpResponder respond) {
  ReportQuery query;
  if (request.HasParam("host")) query.host = request.Param("host");
  if (request.HasParam("reason")) query.reason = request.Param("reason");
  auto since = TimeParam(request, "since");
  auto until = TimeParam(request, "until");
  auto limit = IntegerParam(request, "limit", 50, 1, 1000);
  auto cursor = IntegerParam(request, "cursor", 0, 0, INT64_MAX);
  for (const Error* error :
       {since ? nullptr : &since.error(), until ? nullptr : &until.error(),
        limit ? nullptr : &limit.error(), cursor ? nullptr : &cursor.error()}) {
    if (error != nullptr) return respond(ErrorResponse(400, *error));
  }
  query.since = *since;
  query.until = *until;
  query.limit = static_cast<std::size_t>(*limit);
  if (*cursor > 0) query.before_id = *cursor;
  auto page = context.store.List(query);
  if (!page) return respond(ErrorResponse(503, page.error()));
  Json reports = Json::array();
  for (const StoredReport& report : page->reports) reports.push_back(ReportJson(report));
  Json body = {{"reports", reports}, {"next_cursor", nullptr}};
  if (page->next_cursor) body["next_cursor"] = *page->next_cursor;
  respond(JsonResponse(body));
}

}  // namespace pinion::collector
