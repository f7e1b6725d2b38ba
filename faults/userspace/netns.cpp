#include "faults/userspace/netns.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace faultline::faults::userspace {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

netns_handle::netns_handle(const std::string& name) : name_(name) {
  if (name.empty()) return;
  const auto path = "/run/netns/" + name;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw fault_error(fmt::format("network: network namespace '{}' not found ({}: {}); create it with `ip netns add {}` or fix "
                                  "'netns'",
                                  name, path, std::strerror(errno), name));
}

netns_handle::~netns_handle() { close_fd(fd_); }

netns_handle netns_handle::scratch() {
  int fd = -1;
  std::string failure;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      failure = fmt::format("network: cannot create a scratch network namespace: {} (faultline needs CAP_SYS_ADMIN and "
                            "CAP_NET_ADMIN for network faults; run it as root)",
                            std::strerror(errno));
      return;
    }
    fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) failure = fmt::format("network: cannot open the scratch network namespace: {}", std::strerror(errno));
  });
  t.join();
  if (fd < 0) throw fault_error(failure);
  return netns_handle(fd, "(scratch)");
}

std::string netns_handle::enter() const {
  if (fd_ < 0) return {};
  if (::setns(fd_, CLONE_NEWNET) != 0)
    return fmt::format("network: cannot enter network namespace '{}': {} (faultline needs CAP_SYS_ADMIN; run it as root)", name_,
                       std::strerror(errno));
  return {};
}

std::string program_result::error_text() const {
  auto text = trimmed(err.empty() ? out : err);
  if (text.empty()) text = exit_code < 0 ? "killed after its timeout" : fmt::format("exit code {}", exit_code);
  return text;
}

program_result run_program(const std::string& netns, const std::vector<std::string>& argv, const std::string& input,
                           std::chrono::milliseconds timeout) {
  return run_program(netns_handle(netns), argv, input, timeout);
}

program_result run_program(const netns_handle& ns, const std::vector<std::string>& argv, const std::string& input,
                           std::chrono::milliseconds timeout) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  std::array<int, 2> in{-1, -1}, out{-1, -1}, err{-1, -1};
  // stdin is a socket pair so that writing to a program that exited early fails with EPIPE
  // (MSG_NOSIGNAL) instead of raising SIGPIPE in faultline.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in.data()) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0 ||
      ::pipe2(err.data(), O_CLOEXEC) != 0) {
    for (auto* p : {&in, &out, &err}) {
      close_fd((*p)[0]);
      close_fd((*p)[1]);
    }
    throw fault_error(fmt::format("network: cannot run {}: pipe: {}", argv.front(), std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (!ns.enter().empty()) ::_exit(126);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  close_fd(in[0]);
  close_fd(out[1]);
  close_fd(err[1]);
  if (pid < 0) {
    for (int* fd : {&in[1], &out[0], &err[0]}) close_fd(*fd);
    throw fault_error(fmt::format("network: cannot run {}: fork: {}", argv.front(), std::strerror(errno)));
  }

  program_result result;
  std::size_t written = 0;
  if (input.empty()) close_fd(in[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool killed = false;
  while (out[0] >= 0 || err[0] >= 0 || in[1] >= 0) {
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    if (out[0] >= 0) fds[n++] = {out[0], POLLIN, 0};
    if (err[0] >= 0) fds[n++] = {err[0], POLLIN, 0};
    if (in[1] >= 0) fds[n++] = {in[1], POLLOUT, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (::poll(fds.data(), n, static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) continue;
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in[1]) {
        auto w = ::send(in[1], input.data() + written, input.size() - written, MSG_NOSIGNAL);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == input.size()) close_fd(in[1]);
        continue;
      }
      char buf[4096];
      auto r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        (fds[i].fd == out[0] ? result.out : result.err).append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        close_fd(fds[i].fd == out[0] ? out[0] : err[0]);
      }
    }
  }
  for (int* fd : {&in[1], &out[0], &err[0]}) close_fd(*fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!killed && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (result.exit_code == 126) result.err = fmt::format("cannot enter network namespace '{}'", ns.name());
  if (result.exit_code == 127 && result.err.empty()) result.err = fmt::format("cannot execute {}", argv.front());
  return result;
}

std::string find_program(const std::string& name) {
  std::vector<std::string> dirs{"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (std::size_t start = 0; start <= p.size();) {
      auto end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      if (end > start) dirs.push_back(p.substr(start, end - start));
      start = end + 1;
    }
  }
  for (const auto& d : dirs) {
    auto candidate = d + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    auto word = i == 0 ? std::filesystem::path(argv[i]).filename().string() : argv[i];
    if (word.find(' ') != std::string::npos) word = "\"" + word + "\"";
    line += (line.empty() ? "" : " ") + word;
  }
  return line;
}

}  // namespace faultline::faults::userspace
