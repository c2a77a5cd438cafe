// POST /v1/reports: a client's failure report, stored before it is answered.
// Runs on the I/O thread, so nothing here blocks: the report is parsed and
// queued for group commit, and the answer goes out from the writer thread
// when the commit lands (store/ingest_queue.h).
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "http/handlers.h"
#include "http/json_response.h"
#include "http/rate_limiter.h"
#include "report_parse.h"
#include "store/ingest_queue.h"

namespace pinion::collector {
namespace {

bool IsJsonContentType(const std::string& value) {
  std::string type = value.substr(0, value.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return type == "application/json";
}

}  // namespace

void PostReport(RouteContext& context, HttpRequest& request, HttpResponder respond) {
  int retry_after = 1;
  if (!context.limiter.Allow(request.remote_address, &retry_after)) {
    return respond(
        ErrorResponse(429, "rate_limited", "too many reports from this address; retry later")
            .Set("Retry-After", std::to_string(retry_after)));
  }
  if (!IsJsonContentType(request.Header("content-type"))) {
    return respond(
        ErrorResponse(415, "unsupported_media_type", "reports are sent as application/json"));
  }
  auto report = ParseReport(request.body);
  if (!report) return respond(ErrorResponse(400, report.error()));
  RouteContext* shared = &context;
  Status queued = context.ingest.SubmitAsync(
      {std::move(*report), request.remote_address, context.clock.Now(), std::move(request.body)},
      [shared, respond](Result<IngestOutcome> id) {
        if (!id) return respond(ErrorResponse(503, id.error()).Set("Retry-After", "1"));
        if (!id->has_value()) {
          // Refused, not dropped: pinion's uploader keeps a report
          // spooled on a 5xx and retries it later.
          ++shared->refused_full;
          return respond(ErrorResponse(507, "storage_full",
                                       "the collector's storage quota is reached; "
                                       "the report was not stored, retry later")
                             .Set("Retry-After", "600"));
        }
        respond(JsonResponse({{"id", **id}}, 202));
      });
  if (!queued) respond(ErrorResponse(503, queued.error()).Set("Retry-After", "1"));
}

}  // namespace pinion::collector
