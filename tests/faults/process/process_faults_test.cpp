#include "faults/process/process_faults.hpp"
#include "faults/process/process_target.hpp"
#include "tests/support/eventually.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace faultline;
using namespace std::chrono_literals;

namespace {

// A child process we started (`sleep 60`), killed by its PID when the test ends.
class child {
public:
  child() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until it runs sleep: its name changes at exec, and tests look it up by that name.
    test::eventually([this] {
      std::string comm;
      std::getline(std::ifstream("/proc/" + std::to_string(pid_) + "/comm"), comm);
      return comm == "sleep";
    });
  }
  ~child() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  // Reaps the child if it exited (so it is not left a zombie).
  bool reap() { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }

private:
  pid_t pid_ = -1;
};

const faults::fault_type& type_named(const std::vector<faults::fault_type>& types, const std::string& name) {
  for (const auto& t : types)
    if (t.name == name) return t;
  throw std::logic_error(name);
}

template <typename Awaitable>
void run(boost::asio::io_context& io, Awaitable a) {
  auto f = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
  io.run();
  io.restart();
  f.get();
}

}  // namespace

TEST_CASE("process_stop freezes a process and resumes it on revert", "[faults]") {
  child c;
  auto types = process::process_fault_types();
  const auto& stop = type_named(types, "process_stop");
  boost::asio::io_context io;
  faults::fault_context ctx;
  ctx.executor = io.get_executor();
  ctx.target = std::to_string(c.pid());
  auto fault = stop.create({}, ctx);
  fault->preflight();
  auto undo = fault->undo_record();
  CHECK(undo["pid"] == c.pid());
  run(io, fault->inject());
  CHECK(process::process_state(c.pid()) == 'T');
  CHECK(fault->collect_evidence().observed);
  run(io, fault->revert());
  CHECK(process::process_state(c.pid()) != 'T');

  SECTION("a killed run is undone from the undo record") {
    ::kill(c.pid(), SIGSTOP);
    for (int i = 0; i < 200 && process::process_state(c.pid()) != 'T'; ++i) ::usleep(5000);
    REQUIRE(process::process_state(c.pid()) == 'T');
    stop.undo(undo);
    for (int i = 0; i < 200 && process::process_state(c.pid()) == 'T'; ++i) ::usleep(5000);
    CHECK(process::process_state(c.pid()) != 'T');
  }
}

TEST_CASE("process_kill signals the process from a pid file and sees it exit", "[faults]") {
  child c;
  auto pidfile = std::filesystem::temp_directory_path() / ("faultline-test-" + std::to_string(::getpid()) + ".pid");
  std::ofstream(pidfile) << c.pid() << "\n";
  auto types = process::process_fault_types();
  const auto& kill = type_named(types, "process_kill");
  boost::asio::io_context io;
  faults::fault_context ctx;
  ctx.executor = io.get_executor();
  ctx.target = pidfile.string();
  params p;
  p.set("signal", std::string("TERM"));
  p.set("wait_exit", std::chrono::nanoseconds(5s));
  auto fault = kill.create(p, ctx);
  fault->preflight();
  // The child becomes a zombie until reaped; reap it while the action waits.
  std::thread reaper([&] {
    for (int i = 0; i < 400 && !c.reap(); ++i) ::usleep(5000);
  });
  run(io, fault->inject());
  reaper.join();
  auto e = fault->collect_evidence();
  CHECK(e.observed);
  CHECK_THAT(e.summary, Catch::Contains("SIGTERM and exited"));
  std::filesystem::remove(pidfile);
}

TEST_CASE("process targets that match nothing or several say so", "[faults]") {
  CHECK_THROWS_WITH(process::resolve_process("999999999"), Catch::Contains("no process with PID 999999999"));
  CHECK_THROWS_WITH(process::resolve_process("/nonexistent/x.pid"), Catch::Contains("cannot read the pid file"));
  CHECK_THROWS_WITH(process::resolve_process("no-such-process-name"), Catch::Contains("no process has that exact name"));
  child a, b;
  CHECK_THROWS_WITH(process::resolve_process("sleep"), Catch::Contains("processes have that name"));
}
