// The pinion CLI's command table: one entry per subcommand, each implemented
// in cmd_<name>.cc. main.cc builds the CLI11 parser from this table and
// docs/cli/ documents the same commands.
#ifndef PINION_CLI_COMMANDS_H_
#define PINION_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <functional>
#include <span>
#include <string_view>

#include "failure.h"

namespace pinion::cli {

// Exit codes (docs/CLI.md): a public contract.
enum ExitCode : int {
  kExitOk = 0,           // accepted / success
  kExitPinFailure = 1,   // a pin check failed (or findings at the failing level)
  kExitUsage = 2,        // usage or configuration error
  kExitTlsFailure = 3,   // TLS, validation or network error
  kExitOutput = 4,       // the output could not be written (disk full, closed pipe)
};

// A command registers its options on `app` and returns what runs it. The
// runner prints its result and returns its exit code, or returns its failure
// unprinted: RunCli reports every failure the same way (failure.h).
using CommandRunner = std::function<CommandResult()>;
struct Command {
  std::string_view name;
  std::string_view summary;
  CommandRunner (*attach)(CLI::App& app);
};

CommandRunner AttachPin(CLI::App& app);
CommandRunner AttachFetch(CLI::App& app);
CommandRunner AttachCheck(CLI::App& app);
CommandRunner AttachLint(CLI::App& app);
CommandRunner AttachExport(CLI::App& app);
CommandRunner AttachImport(CLI::App& app);
CommandRunner AttachRotate(CLI::App& app);
CommandRunner AttachInventory(CLI::App& app);
CommandRunner AttachManifest(CLI::App& app);
CommandRunner AttachServe(CLI::App& app);

// Commands lists every subcommand, in help order.
std::span<const Command> Commands();

// FinishOutput flushes standard output and returns kExitOutput when what the
// command printed could not be written, `exit_code` otherwise.
int FinishOutput(int exit_code);

// BuildCli registers every command of the table on `app` (the root parser);
// the chosen command's runner lands in `chosen` after parsing. Every named
// option takes one value per occurrence (repeat the flag for more).
void BuildCli(CLI::App& app, CommandRunner& chosen);

// RunCli parses argv, runs the chosen command and reports its failure, if
// any (ReportFailure: JSON when the command was given --json or --sarif);
// returns the exit code.
int RunCli(int argc, char** argv);

}  // namespace pinion::cli

#endif  // PINION_CLI_COMMANDS_H_
