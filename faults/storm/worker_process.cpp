#include "faults/storm/worker_process.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

namespace faultline::storm {
namespace {

std::system_error os_error(const std::string& what) { return std::system_error(errno, std::generic_category(), what); }

// A "Vm...:   1234 kB" line of /proc/self/status, in bytes.
std::int64_t status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(field.size() + 1));
    std::int64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return 0;
}

}  // namespace

nlohmann::json to_json(const process_id& p) { return {{"pid", p.pid}, {"start_time", p.start_time}}; }

process_id process_id_from_json(const nlohmann::json& j) {
  return {j.at("pid").get<std::int64_t>(), j.at("start_time").get<std::uint64_t>()};
}

std::optional<std::uint64_t> process_start_time(std::int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  rest >> state;  // field 3
  if (state == "Z" || state == "X") return std::nullopt;
  std::string skipped;
  for (int field = 4; field < 22; ++field) rest >> skipped;
  std::uint64_t start = 0;
  if (!(rest >> start)) return std::nullopt;
  return start;
}

bool process_alive(const process_id& p) {
  auto start = process_start_time(p.pid);
  return start && *start == p.start_time;
}

std::string default_worker_program() {
  if (const char* env = std::getenv("FAULTLINE_STORM_WORKER"); env && *env) return env;
  return "/proc/self/exe";
}

spawned_worker spawn_worker(const std::string& program) {
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) throw os_error("storm worker: pipe");
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]);
    ::close(to_child[1]);
    throw os_error("storm worker: pipe");
  }
  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls are allowed (the parent may have other threads).
  std::string mode = "storm-worker";
  std::string path = program;
  char* argv[] = {path.data(), mode.data(), nullptr};
  const pid_t parent = ::getpid();
  sigset_t none;
  sigemptyset(&none);

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
    errno = err;
    throw os_error("storm worker: fork");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before the line above
    if (::dup2(to_child[0], STDIN_FILENO) < 0 || ::dup2(from_child[1], STDOUT_FILENO) < 0) ::_exit(126);
    // Sockets and files of the parent that are not close-on-exec (a proxy's listener, say) must
    // not live on in the worker.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(argv[0], argv);
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  spawned_worker w;
  w.id.pid = pid;
  w.id.start_time = process_start_time(pid).value_or(0);
  w.to_worker = to_child[1];
  w.from_worker = from_child[0];
  return w;
}

std::optional<int> try_reap(std::int64_t pid) {
  int status = 0;
  const auto r = ::waitpid(static_cast<pid_t>(pid), &status, WNOHANG);
  if (r == 0) return std::nullopt;
  if (r < 0) return -1;  // not our child (any more), or SIGCHLD is ignored
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void kill_and_reap(std::int64_t pid) {
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  int status = 0;
  while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
  }
}

bool kill_process(const process_id& p, int wait_ms) {
  if (p.pid <= 0 || !process_alive(p)) return true;
  if (::kill(static_cast<pid_t>(p.pid), SIGKILL) != 0 && errno != ESRCH) return false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (process_alive(p)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::int64_t resident_bytes() { return status_bytes("VmRSS"); }
std::int64_t peak_resident_bytes() { return status_bytes("VmHWM"); }

}  // namespace faultline::storm
