#pragma once
// The command probe: runs `/bin/sh -c RUN` in its own process group per check; ok when it exits
// with the expected code; optionally the first number on its stdout is the value. On timeout the
// whole process group is killed (by the PID it was started with).

#include "probes/fd_wait.hpp"
#include "probes/probe.hpp"

#include <optional>
#include <string>

namespace faultline::probes {

struct command_probe_config {
  std::string run;
  int expect_exit_code = 0;
  bool value = false;
  std::chrono::nanoseconds timeout{};
  static command_probe_config from(const params& p);  // throws param_error
};

// The first number in `text` ("up 42 s" -> 42, "-1.5e3" -> -1500); nullopt when there is none.
std::optional<double> first_number(std::string_view text);

// What one run of a command gave.
struct command_result {
  enum class ending { exited, signalled, timed_out, failed_to_start } how = ending::exited;
  int code = 0;  // exit code, or the signal
  std::string output;  // at most 64 KiB, as the command_mode says
};

// What a caller wants of the output: a probe reads a value from the start of stdout (stderr
// discarded, the first 64 KiB kept); a runbook step wants its messages and errors as they ended
// (stderr merged into stdout, the last 64 KiB kept).
enum class command_mode { probe, runbook };

// Runs `/bin/sh -c command` (stdin /dev/null) in a new process group until it exits or the
// deadline passes, then kills the group. Waits on a pidfd: never blocks the io_context.
boost::asio::awaitable<command_result> run_command(boost::asio::any_io_executor executor, const std::string& command,
                                                   clock::time_point deadline,
                                                   command_mode mode = command_mode::probe);

class command_probe : public probe {
public:
  command_probe(std::shared_ptr<const command_probe_config> config, boost::asio::any_io_executor executor)
      : config_(std::move(config)), executor_(std::move(executor)) {}
  boost::asio::awaitable<sample> check(clock::time_point intended) override;

private:
  std::shared_ptr<const command_probe_config> config_;
  boost::asio::any_io_executor executor_;
};

}  // namespace faultline::probes
