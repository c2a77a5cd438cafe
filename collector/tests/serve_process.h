// ServeProcess runs the real `pinion serve` binary for a test and learns its
// port from --port-file; SIGTERM at destruction unless Kill was called.
#ifndef PINION_COLLECTOR_TESTS_SERVE_PROCESS_H_
#define PINION_COLLECTOR_TESTS_SERVE_PROCESS_H_

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace pinion::collector::testing {

class ServeProcess {
 public:
  ServeProcess(const std::string& database, const std::filesystem::path& port_file,
               const std::vector<std::string>& extra_args = {"--client-rate", "0", "--threads", "16"});
  ~ServeProcess();
  void Kill(int signal);
  int port() const { return port_; }  // 0 when it did not start within 10 s

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace pinion::collector::testing

#endif  // PINION_COLLECTOR_TESTS_SERVE_PROCESS_H_
