// Runs the real `pinion` binary (PINION_BINARY) for the CLI tests and
// captures its exit code, stdout and stderr.
#ifndef PINION_CLI_TESTS_CLI_RUNNER_H_
#define PINION_CLI_TESTS_CLI_RUNNER_H_

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "pinion/pin_source.h"
#include "test_pki.h"

namespace pinion::cli {

struct CliRun {
  int exit_code;
  std::string out;
  std::string err;
  // Json: stdout parsed as JSON, nullopt when it is not JSON.
  std::optional<nlohmann::json> Json() const {
    auto parsed = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
  }
};

inline std::string Slurp(const std::filesystem::path& path) {
  auto bytes = ReadFileBounded(path, 1 << 24);
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

struct CliRedirects {
  std::string stdin_from = "/dev/null";
  std::string stdout_to;  // instead of capturing stdout (e.g. /dev/full); `out` is then empty
};

// Pinion runs `pinion ARGS` through the shell (ARGS may quote).
inline CliRun Pinion(const std::string& args, const CliRedirects& redirects = {}) {
  testing::TempDir dir;
  std::string out = redirects.stdout_to.empty() ? (dir.path() / "out").string() : redirects.stdout_to;
  std::string command = std::string(PINION_BINARY) + " " + args + " > " + out + " 2> " +
                        (dir.path() / "err").string() + " < " + redirects.stdin_from;
  int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, redirects.stdout_to.empty() ? Slurp(out) : "",
          Slurp(dir.path() / "err")};
}

}  // namespace pinion::cli

#endif  // PINION_CLI_TESTS_CLI_RUNNER_H_
