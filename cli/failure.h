// How a command fails. A command returns its failure as a value (CliFailure:
// the Error, what to do next, and anything its JSON answer carries besides);
// RunCli (commands.cc) is the one place that prints it and picks the exit code.
//
//   CommandResult Run(const Options& options) {
//     PINION_ASSIGN_OR_RETURN(auto policy, Hinted(LoadPolicyFile(file), "Fix the policy file first."));
//     if (...) return CliFailure(Error(ErrorCode::kInvalidArgument, "..."), "hint").WithExitCode(kExitOutput);
//     ... print the result ...
//     return kExitOk;
//   }
#ifndef PINION_CLI_FAILURE_H_
#define PINION_CLI_FAILURE_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "pinion/error.h"
#include "pinion/result.h"

namespace pinion::cli {

// CliFailure is a command's failure: `error`, a `hint` on what to do next
// (may be empty), and for the JSON answer, `details` merged into the error
// object (e.g. {"reason": "connection_refused"}) and `beside` placed next to
// it at the top level (e.g. a refused export's changes).
struct CliFailure {
  CliFailure(Error failed, std::string next_step = {})  // NOLINT: implicit from Error by design
      : error(std::move(failed)), hint(std::move(next_step)) {}

  // WithExitCode makes the process exit with `code` instead of the one the
  // error's category gives (ExitCodeFor): a result that could not be written
  // is 4 whatever the error says.
  CliFailure WithExitCode(int code) && {
    exit_code = code;
    return std::move(*this);
  }
  CliFailure WithDetails(nlohmann::json more) && {
    details = std::move(more);
    return std::move(*this);
  }
  CliFailure WithBeside(nlohmann::json more) && {
    beside = std::move(more);
    return std::move(*this);
  }

  // ExitCode is `exit_code` when set, otherwise ExitCodeFor(the error's category).
  int ExitCode() const;

  Error error;
  std::string hint;
  std::optional<int> exit_code;
  nlohmann::json details = nlohmann::json::object();
  nlohmann::json beside = nlohmann::json::object();
};

// CliResult is a T or a CliFailure, used like pinion::Result (PINION_TRY and
// PINION_ASSIGN_OR_RETURN work on it, and on a pinion::Result inside a
// function returning a CliResult: its Error becomes a failure without hint).
template <typename T>
class [[nodiscard]] CliResult {
 public:
  CliResult(T value) : storage_(std::in_place_index<0>, std::move(value)) {}              // NOLINT
  CliResult(CliFailure failure) : storage_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT
  CliResult(Error error) : CliResult(CliFailure(std::move(error))) {}                      // NOLINT
  CliResult(Result<T> result)                                                              // NOLINT
      : storage_(result ? Storage(std::in_place_index<0>, std::move(result).value())
                        : Storage(std::in_place_index<1>, CliFailure(std::move(result).error()))) {}

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const CliFailure& error() const& { return std::get<1>(storage_); }
  CliFailure&& error() && { return std::get<1>(std::move(storage_)); }

 private:
  using Storage = std::variant<T, CliFailure>;
  Storage storage_;
};

// CliStatus is a CliResult with no value: success, or a failure.
using CliStatus = CliResult<std::monostate>;

// CommandResult is what a command returns: the exit code of a result it
// printed itself (0, or e.g. 1 for a pin failure it explained), or a failure
// for RunCli to report.
using CommandResult = CliResult<int>;

// Hinted is `result` with `hint` attached to its failure (and `exit_code`
// instead of the category's, when given).
template <typename T>
CliResult<T> Hinted(Result<T> result, std::string_view hint, std::optional<int> exit_code = std::nullopt) {
  if (result) return std::move(result).value();
  CliFailure failure(std::move(result).error(), std::string(hint));
  failure.exit_code = exit_code;
  return failure;
}

// ReportFailure prints `failure` and returns its exit code: "pinion: <error>"
// and the hint on stderr, or with `json`, the one-line message on stderr and
// {"error": ErrorJson + hint + exit_code + details, ...beside} on stdout, so
// `| jq` never reads plain text.
int ReportFailure(const CliFailure& failure, bool json);

}  // namespace pinion::cli

#endif  // PINION_CLI_FAILURE_H_
