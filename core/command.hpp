#pragma once
// Running a command: `/bin/sh -c` in its own process group, with a deadline after which the whole
// group is killed, its output kept. Used by the command probe and the runbook `command` action.

#include "core/clock.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <string>

namespace faultline {

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

}  // namespace faultline
