// pinion's side of the host-pattern differential test (run.sh, part 2).
//
//   pinion_diff_host_match PATTERNS HOSTS
//
// PATTERNS and HOSTS hold one name per line (UTF-8). Prints tab-separated lines
// that run.sh compares with OkHttpHostMatch.java's output:
//   PATTERN <pattern> accepted|refused:<error code> <canonical form or ->
//   MATCH   <pattern> <host> match|no|host-invalid|pattern-refused
//   HOST    <host> <normalized or -> pinned|unpinned|host-invalid <winning rule or ->
// MATCH lines use HostPattern::Matches, one pattern at a time. HOST lines use
// Policy::FindRule on one policy holding every accepted pattern (the first of
// two patterns with the same canonical form), loaded through the ordinary TOML
// loader: "pinned" means some rule applies, whichever one wins.
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pinion/host_pattern.h"
#include "pinion/pin.h"
#include "pinion/policy.h"
#include "pinion/policy_loader.h"

namespace {

std::vector<std::string> ReadLines(const char* path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: pinion_diff_host_match PATTERNS HOSTS\n";
    return 2;
  }
  std::vector<std::string> patterns = ReadLines(argv[1]);
  std::vector<std::string> hosts = ReadLines(argv[2]);
  if (patterns.empty() || hosts.empty()) {
    std::cerr << "pinion_diff_host_match: empty pattern or host list\n";
    return 2;
  }

  std::vector<std::optional<pinion::HostPattern>> parsed;
  std::set<std::string> in_policy;
  std::string toml = "[policy]\nversion = 1\n";
  for (const std::string& text : patterns) {
    auto pattern = pinion::HostPattern::Parse(text, /*include_subdomains=*/false);
    if (!pattern) {
      std::cout << "PATTERN\t" << text << "\trefused:" << pinion::ErrorCodeName(pattern.error().code()) << "\t-\n";
      parsed.emplace_back();
      continue;
    }
    std::string canonical = pattern->ToString();
    std::cout << "PATTERN\t" << text << "\taccepted\t" << canonical << "\n";
    parsed.emplace_back(*pattern);
    if (!in_policy.insert(canonical).second) continue;
    // Any well-formed pin will do: the comparison is about which rule applies.
    pinion::Pin pin = pinion::Pin::OfSpki({reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size()});
    toml += "[[domain]]\nhost = \"" + canonical + "\"\npins = [{ pin = \"" + pin.ToString() + "\" }]\n";
  }

  std::vector<std::optional<std::string>> normalized;
  for (const std::string& host : hosts) {
    auto name = pinion::NormalizeHostName(host);
    normalized.push_back(name ? std::optional<std::string>(*name) : std::nullopt);
  }

  for (std::size_t p = 0; p < patterns.size(); ++p) {
    for (std::size_t h = 0; h < hosts.size(); ++h) {
      const char* result = !parsed[p]        ? "pattern-refused"
                           : !normalized[h]  ? "host-invalid"
                           : parsed[p]->Matches(*normalized[h]) ? "match"
                                                                : "no";
      std::cout << "MATCH\t" << patterns[p] << "\t" << hosts[h] << "\t" << result << "\n";
    }
  }

  auto policy = pinion::ParsePolicyToml(toml, "differential-hosts.toml");
  if (!policy) {
    std::cerr << "pinion_diff_host_match: the combined policy does not load: " << policy.error().ToString() << "\n";
    return 1;
  }
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    if (!normalized[h]) {
      std::cout << "HOST\t" << hosts[h] << "\t-\thost-invalid\t-\n";
      continue;
    }
    const pinion::DomainRule* rule = (*policy)->FindRule(*normalized[h]);
    std::cout << "HOST\t" << hosts[h] << "\t" << *normalized[h] << "\t" << (rule ? "pinned" : "unpinned") << "\t"
              << (rule ? rule->host.ToString() : "-") << "\n";
  }
  return 0;
}
