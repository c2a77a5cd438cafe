#include "http/dashboard.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "pinion/certificate_info.h"
#include "pinion/tooling/html.h"

namespace pinion::collector {
namespace {

using tooling::HtmlEscape;

constexpr const char* kPalette[] = {"#d1495b", "#edae49", "#00798c", "#30638e", "#003d5b",
                                    "#8f2d56", "#6a994e", "#bc4749", "#577590", "#f3722c"};

constexpr char kStyle[] = R"(<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.meta { color: #666; font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; background: #fff; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
code { font-size: 0.8rem; word-break: break-all; }
.reason-mismatch { color: #b00020; font-weight: 600; }
.legend span { display: inline-block; margin-right: 1rem; font-size: 0.85rem; }
.legend i { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.3rem; vertical-align: -1px; }
.empty { color: #666; font-style: italic; }
svg text { font-size: 11px; fill: #444; }
</style>)";

std::string Chart(const DashboardData& data) {
  const ReportSummary& summary = data.summary;
  if (summary.buckets.empty()) return "<p class=\"empty\" id=\"no-failures\">No failures reported in this window.</p>";
  std::vector<std::string> hosts;
  for (const auto& total : summary.totals) {
    if (std::find(hosts.begin(), hosts.end(), total.hostname) == hosts.end()) hosts.push_back(total.hostname);
  }
  const std::int64_t hour = 3600;
  std::int64_t first = data.window_start.time_since_epoch().count() / hour;
  std::int64_t last = data.now.time_since_epoch().count() / hour;
  std::int64_t slots = std::max<std::int64_t>(1, last - first + 1);
  std::map<std::int64_t, std::map<std::string, std::int64_t>> counts;  // slot → host → count
  std::int64_t peak = 1;
  for (const auto& bucket : summary.buckets) {
    std::int64_t slot = bucket.start.time_since_epoch().count() / hour - first;
    if (slot < 0 || slot >= slots) continue;
    counts[slot][bucket.hostname] += bucket.count;
  }
  for (const auto& [slot, per_host] : counts) {
    std::int64_t sum = 0;
    for (const auto& [host, count] : per_host) sum += count;
    peak = std::max(peak, sum);
  }
  const double width = 960, height = 220, left = 40, bottom = 20;
  const double slot_width = (width - left) / static_cast<double>(slots);
  std::string svg = fmt::format(
      "<svg id=\"failures-chart\" role=\"img\" aria-label=\"Failures per host per hour\" width=\"{0}\" "
      "height=\"{1}\" viewBox=\"0 0 {0} {1}\">",
      width, height);
  svg += fmt::format("<text x=\"0\" y=\"12\">{}</text><text x=\"0\" y=\"{}\">0</text>", peak, height - bottom);
  for (const auto& [slot, per_host] : counts) {
    double y = height - bottom;
    for (std::size_t h = 0; h < hosts.size(); ++h) {
      auto it = per_host.find(hosts[h]);
      if (it == per_host.end()) continue;
      double bar = (height - bottom - 16) * static_cast<double>(it->second) / static_cast<double>(peak);
      y -= bar;
      svg += fmt::format(
          "<rect class=\"bar\" data-host=\"{}\" data-count=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
          "height=\"{:.1f}\" fill=\"{}\"><title>{}: {}</title></rect>",
          HtmlEscape(hosts[h]), it->second, left + static_cast<double>(slot) * slot_width, y,
          std::max(1.0, slot_width - 2), bar, kPalette[h % std::size(kPalette)], HtmlEscape(hosts[h]), it->second);
    }
  }
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#999\"/>", left, height - bottom, width);
  svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", left, height - 4, HtmlEscape(FormatUtc(data.window_start)));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">now</text>", width, height - 4);
  svg += "</svg><div class=\"legend\">";
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    svg += fmt::format("<span><i style=\"background:{}\"></i>{}</span>", kPalette[h % std::size(kPalette)],
                       HtmlEscape(hosts[h]));
  }
  return svg + "</div>";
}

std::string LatestReports(const DashboardData& data) {
  if (data.latest.empty()) return "<p class=\"empty\">No reports yet.</p>";
  std::string html =
      "<table id=\"latest-reports\"><thead><tr><th>received</th><th>host</th><th>reason</th><th>mode</th>"
      "<th>policy</th><th>app</th><th>validated chain pins (leaf first)</th></tr></thead><tbody>";
  for (const StoredReport& report : data.latest) {
    std::string pins;
    for (const std::string& pin : report.chain_pins) pins += "<code>" + HtmlEscape(pin) + "</code><br>";
    std::string app = report.app.id.empty() ? "" : report.app.id + " " + report.app.version;
    html += fmt::format(
        "<tr data-report-id=\"{}\"><td>{}</td><td>{}:{}</td><td class=\"reason-{}\">{}</td><td>{}</td><td>v{}</td>"
        "<td>{}</td><td>{}</td></tr>",
        report.id, HtmlEscape(FormatUtc(report.received_at)), HtmlEscape(report.hostname), report.port, HtmlEscape(report.reason),
        HtmlEscape(report.reason), HtmlEscape(report.mode), report.policy_version, HtmlEscape(app), pins);
  }
  return html + "</tbody></table>";
}

std::string ExpiryTimeline(const DashboardData& data) {
  if (!data.policy) {
    return "<p class=\"empty\">No policy loaded (start with <code>--policy FILE</code> to see its expiry "
           "timeline).</p>";
  }
  std::vector<const DomainRule*> rules;
  for (const DomainRule& rule : data.policy->rules()) rules.push_back(&rule);
  std::stable_sort(rules.begin(), rules.end(), [](const DomainRule* a, const DomainRule* b) {
    if (a->expires.has_value() != b->expires.has_value()) return a->expires.has_value();
    return a->expires && *a->expires < *b->expires;
  });
  double horizon = 365;
  for (const DomainRule* rule : rules) {
    if (rule->expires) {
      horizon = std::max(horizon, std::chrono::duration<double>(*rule->expires - data.now).count() / 86400.0);
    }
  }
  std::string html = fmt::format("<p class=\"meta\">policy version {}</p><table id=\"expiry-timeline\"><thead><tr>"
                                 "<th>rule</th><th>pins</th><th>expires</th><th style=\"width:40%\">time left</th>"
                                 "</tr></thead><tbody>",
                                 data.policy->version());
  for (const DomainRule* rule : rules) {
    std::string labels;
    for (const PinEntry& pin : rule->pins) {
      labels += HtmlEscape(pin.label.empty() ? pin.pin.ToString().substr(0, 20) + "…" : pin.label) + "<br>";
    }
    std::string expires = "never";
    std::string bar = "<span class=\"empty\">no expiry</span>";
    if (rule->expires) {
      double days = std::chrono::duration<double>(*rule->expires - data.now).count() / 86400.0;
      expires = FormatUtc(*rule->expires).substr(0, 10);
      const char* colour = days < 0 ? "#b00020" : days < 30 ? "#edae49" : "#00798c";
      double fraction = std::clamp(days / horizon, 0.0, 1.0);
      bar = fmt::format(
          "<svg width=\"100%\" height=\"14\" viewBox=\"0 0 100 14\" preserveAspectRatio=\"none\"><rect "
          "class=\"expiry-bar\" x=\"0\" y=\"2\" width=\"{:.2f}\" height=\"10\" fill=\"{}\"/></svg>{}",
          std::max(0.5, fraction * 100), colour,
          days < 0 ? "<strong>expired</strong>" : fmt::format("{:.0f} days", days));
    }
    html += fmt::format("<tr class=\"rule\" data-host=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        HtmlEscape(rule->host.ToString()), HtmlEscape(rule->host.ToString()), labels, expires, bar);
  }
  return html + "</tbody></table>";
}

}  // namespace

std::string RenderDashboard(const DashboardData& data) {
  std::string html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pinion collector</title>";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">";
  html += kStyle;
  html += "</head><body><h1>pinion collector</h1>";
  html += fmt::format("<p class=\"meta\">{} failure reports since {} · now {} · {} store</p>", data.summary.total,
                      HtmlEscape(FormatUtc(data.window_start)), HtmlEscape(FormatUtc(data.now)), HtmlEscape(data.database));
  html += "<h2>Failures per host per hour</h2>" + Chart(data);
  html += "<h2>Latest reports</h2>" + LatestReports(data);
  html += "<h2>Pin expiry timeline</h2>" + ExpiryTimeline(data);
  html += "</body></html>";
  return html;
}

}  // namespace pinion::collector
