#include "faults/actions/command_action.hpp"

#include "core/command.hpp"

#include <fmt/format.h>

namespace faultline::actions {
namespace {

namespace asio = boost::asio;
using faultline::param_kind;
using faultline::params;
using std::chrono::nanoseconds;

// The journal keeps the end of long output: that is where scripts say what went wrong.
constexpr std::size_t output_kept = 8 * 1024;

std::string tail_of(const std::string& text) {
  if (text.size() <= output_kept) return text;
  return "[...]" + text.substr(text.size() - output_kept);
}

class command_action final : public faults::fault {
public:
  explicit command_action(const params& p, asio::any_io_executor executor)
      : run_(p.text("run")), timeout_(p.duration("timeout")),
        expect_exit_code_(static_cast<int>(p.integer("expect_exit_code"))), executor_(std::move(executor)) {}

  asio::awaitable<void> inject() override {
    const auto started = std::chrono::steady_clock::now();
    result_ = co_await run_command(executor_, run_, started + timeout_, command_mode::runbook);
    took_ = std::chrono::steady_clock::now() - started;
    ran_ = true;
    if (const auto problem = failure(); !problem.empty()) throw faults::fault_error(problem);
  }

  asio::awaitable<void> revert() override { co_return; }

  faults::evidence collect_evidence() const override {
    faults::evidence e;
    if (!ran_) return e;
    const auto ms = std::chrono::duration<double, std::milli>(took_).count();
    const auto problem = failure();
    e.observed = problem.empty();
    e.summary = problem.empty() ? fmt::format("'{}' exited with {} after {:.0f} ms", run_, result_.code, ms)
                                : fmt::format("'{}' {} after {:.0f} ms", run_, problem, ms);
    e.details = {{"run", run_},
                 {"ending", ending_name()},
                 {"exit_code", result_.code},
                 {"expected_exit_code", expect_exit_code_},
                 {"took_ms", ms},
                 {"output", tail_of(result_.output)}};
    return e;
  }

private:
  // Empty when the command did what the step expects; otherwise what went wrong.
  std::string failure() const {
    switch (result_.how) {
      case command_result::ending::failed_to_start: return "could not be started (/bin/sh missing?)";
      case command_result::ending::timed_out:
        return fmt::format("did not finish within {} ms and was killed",
                           std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count());
      case command_result::ending::signalled: return fmt::format("was killed by signal {}", result_.code);
      case command_result::ending::exited:
        if (result_.code == expect_exit_code_) return {};
        return fmt::format("exited with {} (expected {})", result_.code, expect_exit_code_);
    }
    return {};
  }

  const char* ending_name() const {
    switch (result_.how) {
      case command_result::ending::exited: return "exited";
      case command_result::ending::signalled: return "signalled";
      case command_result::ending::timed_out: return "timed_out";
      case command_result::ending::failed_to_start: return "failed_to_start";
    }
    return "?";
  }

  std::string run_;
  nanoseconds timeout_;
  int expect_exit_code_;
  asio::any_io_executor executor_;
  bool ran_ = false;
  command_result result_;
  nanoseconds took_{};
};

}  // namespace

std::vector<faults::fault_type> action_types() {
  using namespace std::chrono_literals;
  faults::fault_type command;
  command.name = "command";
  command.summary = "run a shell command (a runbook step) and record its exit code, duration and output";
  command.family = "action";
  command.action = true;
  command.params = {
      {"run", param_kind::text, "shell command, run with /bin/sh -c in faultline's working directory", {}, true},
      {"timeout", param_kind::duration, "kill the command (its whole process group) after this long",
       nanoseconds(60s), false, 0.0},
      {"expect_exit_code", param_kind::integer, "exit code that counts as success", std::int64_t{0}, false, 0.0,
       255.0},
  };
  command.create = [](const params& p, const faults::fault_context& c) {
    return std::make_unique<command_action>(p, c.executor);
  };
  return {command};
}

}  // namespace faultline::actions
