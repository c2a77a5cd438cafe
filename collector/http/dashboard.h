// collector/http/dashboard.h — the page at GET /: server-rendered HTML with inline
// SVG, no scripts and no external resources.
#ifndef PINION_COLLECTOR_HTTP_DASHBOARD_H_
#define PINION_COLLECTOR_HTTP_DASHBOARD_H_

#include <string>
#include <vector>

#include "pinion/clock.h"
#include "pinion/policy.h"
#include "store/report_store.h"

namespace pinion::collector {

struct DashboardData {
  TimePoint now;
  ReportSummary summary;                // hourly buckets over the window
  TimePoint window_start;
  std::vector<StoredReport> latest;     // newest first
  PolicySnapshot policy;                // may be null
  std::string database;                 // "sqlite" | "postgresql"
};

// RenderDashboard: failures per host over time (stacked bars), the latest
// reports with their validated chains' pins, and the policy's expiry timeline.
std::string RenderDashboard(const DashboardData& data);

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_HTTP_DASHBOARD_H_
