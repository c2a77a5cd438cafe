// pinion — the command-line tool. Subcommands live in cmd_<name>.cc; the
// table is in commands.cc.
#include <csignal>

#include "commands.h"

int main(int argc, char** argv) {
  // A peer that closes early must surface as an error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  return pinion::cli::RunCli(argc, argv);
}
