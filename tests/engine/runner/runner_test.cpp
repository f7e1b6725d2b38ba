// The runner end to end through the faultline binary: rollback on SIGINT, recovery after
// SIGKILL, and no injection when the steady state does not hold. The fault is process_stop on a
// `sleep` child of the test (stopped and resumed by its PID); the probe is a command probe, so no
// server is needed.

#include "engine/state_file.hpp"
#include "faults/process/process_target.hpp"
#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace faultline;
using namespace std::chrono_literals;

namespace {

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-runner-test-" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A process started by the test and killed by its PID at the end.
class child_process {
public:
  explicit child_process(std::vector<std::string> argv, const std::filesystem::path& output = "/dev/null") {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~child_process() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  int wait_exit() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void signal(int s) { ::kill(pid_, s); }

private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

std::filesystem::path write_experiment(const std::filesystem::path& dir, pid_t target, const std::string& probe_command) {
  auto file = dir / "freeze.yaml";
  std::ofstream(file) << "version: 1\n"
                         "name: freeze\n"
                         "probes:\n"
                         "  alive: { command: { run: \"" << probe_command << "\", every: 200ms, timeout: 1s } }\n"
                         "steady_state: { for: 1s, timeout: 3s, require: [ \"alive.ok\" ] }\n"
                         "timeline:\n"
                         "  baseline: 1s\n"
                         "  steps:\n"
                         "    - { at: 0s, for: 60s, fault: process_stop, target: \"" << target << "\" }\n"
                         "  recovery: { timeout: 5s, stable_for: 1s }\n";
  return file;
}

std::vector<std::string> faultline_run(const std::filesystem::path& experiment, const std::filesystem::path& dir) {
  return {test::faultline_binary(), "run", experiment.string(), "--report-dir", (dir / "reports").string(),
          "--state-file", (dir / "state.json").string()};
}

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("SIGINT during a fault reverts it, writes the journal and exits 3", "[engine]") {
  auto dir = scratch("sigint");
  child_process target({"/bin/sleep", "300"});
  child_process run(faultline_run(write_experiment(dir, target.pid(), "true"), dir), dir / "output.txt");
  REQUIRE(test::eventually([&] { return faultline::process::process_state(target.pid()) == 'T'; }, 30s));
  run.signal(SIGINT);
  CHECK(run.wait_exit() == 3);
  CHECK(faultline::process::process_state(target.pid()) != 'T');
  auto journal = read_json(dir / "reports" / "freeze.journal.json");
  CHECK(journal["verdict"]["result"] == "aborted");
  CHECK(journal["verdict"]["exit_code"] == 3);
  CHECK(journal["faults"][0]["reverted_at"].is_number());
  CHECK(engine::state_file(dir / "state.json").entries().empty());
}

TEST_CASE("after a SIGKILLed run, 'faultline recover' undoes the fault", "[engine]") {
  auto dir = scratch("sigkill");
  child_process target({"/bin/sleep", "300"});
  child_process run(faultline_run(write_experiment(dir, target.pid(), "true"), dir), dir / "output.txt");
  REQUIRE(test::eventually([&] { return faultline::process::process_state(target.pid()) == 'T'; }, 30s));
  run.signal(SIGKILL);
  CHECK(run.wait_exit() == 128 + SIGKILL);
  // The process stays stopped: nobody reverted it. The state file says how to undo it.
  CHECK(faultline::process::process_state(target.pid()) == 'T');
  REQUIRE(engine::state_file(dir / "state.json").entries().size() == 1);
  auto recover = test::run_command(test::faultline_binary() + " recover --state-file " + (dir / "state.json").string());
  INFO(recover.output);
  CHECK(recover.exit_code == 0);
  CHECK_THAT(recover.output, Catch::Contains("undone   process_stop"));
  CHECK(test::eventually([&] { return faultline::process::process_state(target.pid()) != 'T'; }, 5s));
  CHECK(engine::state_file(dir / "state.json").entries().empty());
}

TEST_CASE("no fault is injected when the steady state does not hold", "[engine]") {
  auto dir = scratch("not-steady");
  child_process target({"/bin/sleep", "300"});
  child_process run(faultline_run(write_experiment(dir, target.pid(), "false"), dir), dir / "output.txt");
  CHECK(run.wait_exit() == 1);
  CHECK(faultline::process::process_state(target.pid()) != 'T');
  auto journal = read_json(dir / "reports" / "freeze.journal.json");
  CHECK(journal["verdict"]["result"] == "not_steady");
  CHECK_THAT(journal["verdict"]["reason"].get<std::string>(), Catch::Contains("\"alive.ok\" did not hold"));
  CHECK(journal["faults"][0]["injected_at"].is_null());
}
