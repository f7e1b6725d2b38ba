#include "tests/support/websocket_server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace faultline::test {

websocket_server_process::websocket_server_process(const std::string& program, std::chrono::milliseconds reply_delay) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("websocket_server_process: pipe failed");
  const std::string delay = std::to_string(reply_delay.count());
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("websocket_server_process: fork failed");
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execl(program.c_str(), program.c_str(), "--delay", delay.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  to_child_ = in[1];
  from_child_ = out[0];
  const auto line = ask("");
  if (line.rfind("port ", 0) != 0) throw std::runtime_error("websocket_server_process: " + program + " did not start: '" + line + "'");
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(5)));
}

websocket_server_process::~websocket_server_process() {
  if (to_child_ >= 0) ::close(to_child_);
  if (from_child_ >= 0) ::close(from_child_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

// Sends `command` (none: only reads) and returns the next line of output; waits up to 30 s.
std::string websocket_server_process::ask(const std::string& command) {
  if (!command.empty()) {
    const std::string line = command + "\n";
    if (::write(to_child_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw std::runtime_error("websocket_server_process: the server went away");
  }
  for (;;) {
    if (auto nl = pending_.find('\n'); nl != std::string::npos) {
      auto line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    pollfd p{from_child_, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) throw std::runtime_error("websocket_server_process: no answer within 30 s");
    char buffer[512];
    const auto n = ::read(from_child_, buffer, sizeof buffer);
    if (n <= 0) throw std::runtime_error("websocket_server_process: the server went away");
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
}

websocket_test_server::counts websocket_server_process::snapshot() {
  std::istringstream in(ask("counts"));
  websocket_test_server::counts c;
  std::string word;
  in >> word >> c.upgraded >> word >> c.held >> word >> c.peak_held >> word >> c.ended >> word >> c.refused >> word >> c.messages;
  if (!in) throw std::runtime_error("websocket_server_process: bad counts line");
  return c;
}

void websocket_server_process::stall_for(std::chrono::milliseconds d) {
  if (ask("stall " + std::to_string(d.count())) != "ok") throw std::runtime_error("websocket_server_process: stall failed");
}

}  // namespace faultline::test
