// pinion — the command-line tool. Subcommands live in cmd_<name>.cc; the
// table is in commands.cc.
#include "commands.h"

int main(int argc, char** argv) { return pinion::cli::RunCli(argc, argv); }
