// collector/http/handlers.h — one function per route of `pinion serve`, each
// in its own file under http/handlers/. Collector::Routes (collector.cc) is
// the table that binds them to methods, paths and threads.
//
//   POST /v1/reports            PostReport     (I/O thread; answers when the commit lands)
//   GET  /v1/reports            GetReports     (readers only)
//   GET  /v1/reports/ID         GetReport      (readers only)
//   GET  /v1/summary            GetSummary     (readers only)
//   GET  /healthz               GetHealth
//   GET  /v1/manifests/NAME     GetManifest
//   GET  /                      GetDashboard   (readers only)
#ifndef PINION_COLLECTOR_HTTP_HANDLERS_H_
#define PINION_COLLECTOR_HTTP_HANDLERS_H_

#include <atomic>
#include <chrono>
#include <cstdint>

#include "http/message.h"
#include "pinion/clock.h"
#include "pinion/policy.h"

namespace pinion::collector {

class ClientRateLimiter;
class IngestQueue;
class ManifestDirectory;
class ReadAccess;
class ReportStore;

// RouteContext is what the handlers share: the collector's parts and the
// settings the routes answer with. The collector owns it and everything it
// refers to, for as long as its server runs.
struct RouteContext {
  ReportStore& store;
  IngestQueue& ingest;
  ClientRateLimiter& limiter;
  const ReadAccess& read_access;
  const ManifestDirectory* manifests;  // null: no manifests served
  PolicySnapshot policy;               // shown on the dashboard; may be null
  const Clock& clock;
  std::chrono::seconds manifest_max_age;
  std::int64_t max_db_bytes;    // 0: unbounded
  std::chrono::seconds retain;  // 0: reports kept forever
  // Shown by /healthz.
  std::atomic<std::uint64_t> refused_full{0};    // reports answered 507
  std::atomic<std::uint64_t> pruned{0};          // reports deleted by retention
  std::atomic<std::uint64_t> prune_failures{0};  // retention runs that failed
};

// RouteHandler is the shape of every handler below: it answers through
// `respond`, exactly once, now or later.
using RouteHandler = void (*)(RouteContext& context, HttpRequest& request, HttpResponder respond);

void PostReport(RouteContext& context, HttpRequest& request, HttpResponder respond);
void GetReports(RouteContext& context, HttpRequest& request, HttpResponder respond);
void GetReport(RouteContext& context, HttpRequest& request, HttpResponder respond);
void GetSummary(RouteContext& context, HttpRequest& request, HttpResponder respond);
void GetHealth(RouteContext& context, HttpRequest& request, HttpResponder respond);
void GetManifest(RouteContext& context, HttpRequest& request, HttpResponder respond);
void GetDashboard(RouteContext& context, HttpRequest& request, HttpResponder respond);

// ReadersOnly runs `handler` only for requests ReadAccess allows
// (http/read_access.h); the others are answered 401 or 403.
HttpHandler ReadersOnly(const ReadAccess& access, HttpHandler handler);

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_HANDLERS_H_
