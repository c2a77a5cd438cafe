// A child process for the spool crash test: adds one report (read from a
// file) to a ReportSpool and kills itself (SIGKILL, as `kill -9`) at a chosen
// step of the report file's write. With the step "none" it runs to the end,
// printing every step it passed and then "accepted <sequence>".
//
//   report_spool_child SPOOL_DIR REPORT_JSON STEP
#include <csignal>
#include <iostream>
#include <string>

#include "pinion/pin_source.h"
#include "pinion/report/report_spool.h"
#include "report_parse.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: report_spool_child SPOOL_DIR REPORT_JSON STEP\n";
    return 2;
  }
  std::string die_at = argv[3];
  auto body = pinion::ReadFileBounded(argv[2], pinion::kMaxReportBytes);
  if (!body) return 2;
  auto report = pinion::ParseReport(std::string_view(reinterpret_cast<const char*>(body->data()), body->size()));
  if (!report) {
    std::cerr << report.error().ToString() << "\n";
    return 2;
  }
  pinion::ReportSpoolOptions options;
  options.on_write_step = [&](std::string_view step) {
    std::cout << step << std::endl;
    if (step == die_at) std::raise(SIGKILL);
  };
  auto spool = pinion::ReportSpool::Open(argv[1], options);
  if (!spool) return 2;
  auto sequence = (*spool)->Add(*report);
  if (!sequence) {
    std::cerr << sequence.error().ToString() << "\n";
    return 2;
  }
  // Printed only after Add returned: from here on the report must survive.
  std::cout << "accepted " << *sequence << std::endl;
  return 0;
}
