#include "core/command.hpp"

#include "core/fd_wait.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace faultline {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t output_limit = 64 * 1024;

// Appends `data`, keeping the first (probe) or the last (runbook) output_limit bytes.
void keep_output(std::string& output, std::string_view data, command_mode mode) {
  if (mode == command_mode::probe) {
    output.append(data.substr(0, output_limit - std::min(output.size(), output_limit)));
    return;
  }
  output.append(data);
  if (output.size() > 2 * output_limit) output.erase(0, output.size() - output_limit);
}

struct fd_closer {
  int fd = -1;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

asio::awaitable<command_result> run_command(asio::any_io_executor executor, const std::string& command,
                                            clock::time_point deadline, command_mode mode) {
  command_result out;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    out.how = command_result::ending::failed_to_start;
    co_return out;
  }
  fd_closer write_end{pipe_fds[1]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  if (mode == command_mode::runbook)
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  else
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid = -1;
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  const int spawned = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(write_end.fd);
  write_end.fd = -1;
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    out.how = command_result::ending::failed_to_start;
    co_return out;
  }

  fd_closer pidfd{pidfd_open(pid)};
  asio::posix::stream_descriptor output(executor, pipe_fds[0]);
  fd_waiter exit_waiter(executor);
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  int status = 0;
  bool reaped = false;
  // Without pidfds (Linux < 5.3) the exit is polled every 10 ms.
  auto wait_exit = [&](clock::time_point until) -> asio::awaitable<bool> {
    if (pidfd.fd >= 0)
      co_return co_await exit_waiter.wait(pidfd.fd, asio::posix::descriptor_base::wait_read, until) == fd_waiter::result::ready;
    for (;;) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        reaped = true;
        co_return true;
      }
      if (clock_type::now() >= until) co_return false;
      asio::steady_timer pause(executor, std::min(until, clock_type::now() + std::chrono::milliseconds(10)));
      co_await pause.async_wait(use_tuple);
    }
  };
  std::array<char, 4096> buf{};
  bool output_open = true;
  bool exited = false;
  // Read stdout while waiting for the exit; a grandchild holding stdout open must not keep us.
  while (!exited && clock_type::now() < deadline) {
    if (output_open) {
      auto done = co_await (output.async_read_some(asio::buffer(buf), use_tuple) || wait_exit(deadline));
      if (done.index() == 0) {
        auto [ec, n] = std::get<0>(done);
        if (ec) output_open = false;
        else keep_output(out.output, {buf.data(), n}, mode);
        continue;
      }
      exited = std::get<1>(done);
    } else {
      exited = co_await wait_exit(deadline);
    }
  }
  if (!exited) {
    ::kill(-pid, SIGKILL);  // the whole group: the shell and whatever it started
    out.how = command_result::ending::timed_out;
  }
  // Whatever the command wrote before exiting is still in the pipe.
  if (exited && output_open) {
    const int flags = ::fcntl(output.native_handle(), F_GETFL);
    ::fcntl(output.native_handle(), F_SETFL, flags | O_NONBLOCK);
    for (;;) {
      const auto n = ::read(output.native_handle(), buf.data(), buf.size());
      if (n <= 0 || (mode == command_mode::probe && out.output.size() >= output_limit)) break;
      keep_output(out.output, {buf.data(), static_cast<std::size_t>(n)}, mode);
    }
  }
  // Reap: immediate after an exit; after SIGKILL the kernel finishes it promptly.
  while (!reaped && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out.how != command_result::ending::timed_out) {
    if (WIFEXITED(status)) {
      out.how = command_result::ending::exited;
      out.code = WEXITSTATUS(status);
    } else {
      out.how = command_result::ending::signalled;
      out.code = WTERMSIG(status);
    }
  }
  if (out.output.size() > output_limit) out.output.erase(0, out.output.size() - output_limit);
  co_return out;
}

}  // namespace faultline
