#include "http/router.h"

#include <utility>

namespace pinion::collector {
namespace {

bool IsPlainPath(const std::string& pattern) {
  return pattern.find_first_of("()[]{}\\.*+?^$|") == std::string::npos;
}

}  // namespace

void Router::Add(std::string method, const std::string& pattern, Dispatch dispatch,
                 HttpHandler handler) {
  Route route{std::move(method), {}, {}, dispatch, std::move(handler)};
  if (IsPlainPath(pattern)) {
    route.exact = pattern;
  } else {
    route.regex.emplace(pattern, std::regex::ECMAScript | std::regex::optimize);
  }
  routes_.push_back(std::move(route));
}

const Router::Route* Router::Find(HttpRequest& request) const {
  for (const Route& route : routes_) {
    if (route.method != request.method) continue;
    if (route.regex) {
      std::smatch groups;
      if (!std::regex_match(request.path, groups, *route.regex)) continue;
      for (std::size_t i = 1; i < groups.size(); ++i) request.captures.push_back(groups[i].str());
    } else if (route.exact != request.path) {
      continue;
    }
    return &route;
  }
  return nullptr;
}

}  // namespace pinion::collector
