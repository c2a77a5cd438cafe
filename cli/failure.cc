#include "failure.h"

#include <iostream>

#include "output.h"

namespace pinion::cli {

int CliFailure::ExitCode() const { return exit_code.value_or(ExitCodeFor(CategoryOf(error.code()))); }

int ReportFailure(const CliFailure& failure, bool json) {
  const int exit_code = failure.ExitCode();
  // With --json the hint is in the JSON answer; stderr keeps the one line.
  std::cerr << "pinion: " << failure.error.ToString() << "\n";
  if (!json && !failure.hint.empty()) std::cerr << "  " << failure.hint << "\n";
  if (json) {
    nlohmann::json body = ErrorJson(failure.error);
    body["hint"] = failure.hint.empty() ? nlohmann::json() : nlohmann::json(failure.hint);
    body["exit_code"] = exit_code;
    for (const auto& item : failure.details.items()) body[item.key()] = item.value();
    nlohmann::json answer = failure.beside;
    answer["error"] = body;
    std::cout << answer.dump(2) << "\n";
  }
  return exit_code;
}

}  // namespace pinion::cli
