// SilentListener: a TCP socket listening on 127.0.0.1 that never accepts and
// never answers. The kernel completes connections from the backlog, so a
// client connects and then waits forever for a first byte: a server (or a
// collector) that hangs, for timeout tests.
#ifndef PINION_TESTS_SUPPORT_SILENT_LISTENER_H_
#define PINION_TESTS_SUPPORT_SILENT_LISTENER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace pinion::testing {

class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    bind(fd_, reinterpret_cast<sockaddr*>(&address), size);
    listen(fd_, 16);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace pinion::testing

#endif  // PINION_TESTS_SUPPORT_SILENT_LISTENER_H_
