#include "postgres_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <gtest/gtest.h>

#include "test_pki.h"

namespace pinion::collector::testing {

namespace {

PostgresCluster* shared_cluster = nullptr;

class SharedClusterEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    delete shared_cluster;
    shared_cluster = nullptr;
  }
};
const auto* const kSharedClusterEnvironment = ::testing::AddGlobalTestEnvironment(new SharedClusterEnvironment);

}  // namespace

PostgresCluster& SharedPostgresCluster() {
  if (shared_cluster == nullptr) shared_cluster = new PostgresCluster();
  return *shared_cluster;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::abort();
  }
  int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

PostgresCluster::PostgresCluster() {
  char pattern[] = "/tmp/pinion-pg-XXXXXX";
  if (mkdtemp(pattern) == nullptr) std::abort();
  directory_ = pattern;
  port_ = FreeLoopbackPort();
  auto started = pinion::testing::RunCommand(std::string(PINION_START_POSTGRES) + " " + directory_.string() + " " +
                                             std::to_string(port_));
  if (started.exit_code != 0) {
    std::cerr << "cannot start PostgreSQL for the tests:\n" << started.output << std::endl;
    std::abort();
  }
  uri_ = started.output.substr(0, started.output.find('\n'));
}

PostgresCluster::~PostgresCluster() {
  (void)pinion::testing::RunCommand(std::string(PINION_START_POSTGRES) + " --stop " + directory_.string());
  std::error_code ec;
  std::filesystem::remove_all(directory_, ec);
}

std::string PostgresCluster::FreshDatabase() {
  std::string name = "t" + std::to_string(++databases_);
  std::string command = "createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U pinion " + name;
  auto created = pinion::testing::RunCommand(command);
  if (created.exit_code != 0) {
    std::cerr << created.output << std::endl;
    std::abort();
  }
  return "postgresql://pinion@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

}  // namespace pinion::collector::testing
