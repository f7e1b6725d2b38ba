#pragma once
// What every part of one run shares: the executor and clock it lives on, the events that stop it
// (abort, the operator's end of the manual faults, the end of the run), its progress lines, and
// how it stopped (an abort or a failure), which the verdict reports.

#include "core/clock.hpp"
#include "engine/runner/event.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>

#include <functional>
#include <memory>
#include <string>

namespace faultline::engine {

// How a run was stopped before its end, if it was.
struct run_stop {
  bool aborted = false;
  std::string abort_reason;
  std::string error;   // an injection or environment failure that stopped the run
  int error_exit = 4;  // 2 for invalid input or environment, 4 for internal errors
};

class run_control {
public:
  using log_function = std::function<void(const std::string& line)>;

  run_control(boost::asio::any_io_executor executor, std::shared_ptr<faultline::clock> time, log_function log);

  boost::asio::any_io_executor executor() const { return executor_; }
  faultline::clock& time() const { return *time_; }
  clock::time_point now() const { return time_->now(); }

  event& abort() { return abort_; }
  event& manual_end() { return manual_end_; }  // the operator ended the `until: manual` faults
  event& finished() { return finished_; }      // the run is over: background coroutines end

  // A progress line ("injected latency [latency-1] on postgres").
  void log(const std::string& line) const { log_(line); }

  // Stops the run and reverts every fault (exit 3). Only the first reason counts.
  void request_abort(const std::string& reason);
  // Stops the run because it cannot go on: exit 2 when the environment lacks a capability, else 4.
  void fail_run(const std::string& why, bool capability);
  // SIGINT or SIGTERM: abort; during the rollback only a note that it is under way.
  void on_signal(int signal);
  // Hands each signal `signals` delivers to on_signal() until `signals` is cancelled.
  boost::asio::awaitable<void> watch_signals(boost::asio::signal_set& signals);

  const run_stop& stop() const { return stop_; }

private:
  boost::asio::any_io_executor executor_;
  std::shared_ptr<faultline::clock> time_;
  log_function log_;
  event abort_;
  event manual_end_;
  event finished_;
  run_stop stop_;
};

}  // namespace faultline::engine
