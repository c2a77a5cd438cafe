// GET /healthz: whether the database answers, what is stored, and how group
// commit and retention are doing. Open to everyone: it shows no report data.
#include <string>

#include "http/handlers.h"
#include "http/json_response.h"
#include "store/ingest_queue.h"
#include "store/report_store.h"

namespace pinion::collector {

void GetHealth(RouteContext& context, HttpRequest&, HttpResponder respond) {
  ReportStore& store = context.store;
  Status ping = store.Ping();
  std::string database(SqlDialectName(store.dialect()));
  if (!ping.ok()) {
    return respond(JsonResponse(
        {{"status", "unavailable"}, {"database", database}, {"error", ping.error().message()}},
        503));
  }
  auto usage = store.Usage();
  if (!usage) {
    return respond(JsonResponse(
        {{"status", "unavailable"}, {"database", database}, {"error", usage.error().message()}},
        503));
  }
  Json storage = {{"reports", usage->reports},
                  {"bytes", usage->bytes},
                  {"max_bytes", nullptr},
                  {"retain_seconds", nullptr},
                  {"refused_full", context.refused_full.load()},
                  {"pruned", context.pruned.load()},
                  {"prune_failures", context.prune_failures.load()}};
  if (context.max_db_bytes > 0) storage["max_bytes"] = context.max_db_bytes;
  if (context.retain.count() > 0) storage["retain_seconds"] = context.retain.count();
  // Reports per commit tell whether group commit keeps up (docs/COLLECTOR.md).
  respond(JsonResponse(
      {{"status", "ok"},
       {"database", database},
       {"schema_version", store.schema_version()},
       {"ingest", {{"commits", context.ingest.batches()}, {"reports", context.ingest.committed()}}},
       {"storage", storage}}));
}

}  // namespace pinion::collector
