#pragma once
// The websocket_test_server program (tests/support/websocket_test_server_main.cpp) run as a child
// process and driven through its stdin and stdout: for tests whose sessions need more
// descriptors than one process may hold for both ends. Killed when this object goes.

#include "tests/support/websocket_test_server.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace faultline::test {

class websocket_server_process {
public:
  // Starts `program` (the built websocket_test_server) and waits until it listens.
  // Throws std::runtime_error when it does not start.
  websocket_server_process(const std::string& program, std::chrono::milliseconds reply_delay);
  ~websocket_server_process();
  websocket_server_process(const websocket_server_process&) = delete;
  websocket_server_process& operator=(const websocket_server_process&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/") const { return "ws://127.0.0.1:" + std::to_string(port_) + path; }
  websocket_test_server::counts snapshot();
  void stall_for(std::chrono::milliseconds d);

private:
  std::string ask(const std::string& command);

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string pending_;  // read but not yet consumed
  std::uint16_t port_ = 0;
};

}  // namespace faultline::test
