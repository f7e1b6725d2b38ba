#pragma once
// One timeline step from start to end: wait for its time, record how to undo it in the state
// file, inject, wait for its end (a duration, recovery, the operator, another step), revert, and
// remove the record. On abort it reverts at once. It never throws; failures land in its record.

#include "engine/experiment.hpp"
#include "engine/runner/event.hpp"
#include "engine/state_file.hpp"
#include "faults/fault.hpp"
#include "reports/journal.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace faultline::engine {

// What a step needs from the run it belongs to.
struct step_environment {
  boost::asio::any_io_executor executor;
  std::chrono::steady_clock::time_point run_start;    // offset 0 of the timeline
  std::chrono::steady_clock::time_point fault_start;  // when the fault phase began
  event* abort = nullptr;
  event* manual_end = nullptr;  // the operator ended the manual faults
  state_file* state = nullptr;
  std::string run_id;
  std::string experiment;
  // Waits until the steady-state rules hold for `stable_for` in windows after `since`.
  std::function<boost::asio::awaitable<void>(std::chrono::steady_clock::time_point since)> recovered;
  // The `ended` event of another step, by name.
  std::function<event*(const std::string& step)> ended_of;
  // Called when inject fails: the run stops, reverting everything.
  std::function<void(const std::string& why, bool capability)> fail_run;
  // Progress lines ("injected latency-1 on postgres").
  std::function<void(const std::string& line)> log;
};

class step_runner {
public:
  step_runner(const step& s, const faults::fault_type& type, std::unique_ptr<faults::fault> fault,
              const step_environment& env);

  // The run's offset 0 and the start of the fault phase, known once the baseline is over.
  void set_times(std::chrono::steady_clock::time_point run_start, std::chrono::steady_clock::time_point fault_start) {
    env_.run_start = run_start;
    env_.fault_start = fault_start;
  }
  const step& spec() const { return step_; }
  faults::fault& fault() { return *fault_; }
  bool active() const { return active_; }
  event& ended() { return ended_; }
  // The journal's account of this step (times as offsets from the run start).
  const reports::fault_record& record() const { return record_; }

  boost::asio::awaitable<void> run();
  // Reverts now if the fault is active (used on abort and on shutdown). Safe to call twice.
  boost::asio::awaitable<void> revert_now(const std::string& why);

private:
  boost::asio::awaitable<void> run_action();
  boost::asio::awaitable<void> wait_for_end();
  double offset_now() const;
  void capture_evidence();

  const step& step_;
  const faults::fault_type& type_;
  std::unique_ptr<faults::fault> fault_;
  step_environment env_;
  event ended_;
  bool active_ = false;
  bool reverting_ = false;
  bool recorded_undo_ = false;
  reports::fault_record record_;
};

}  // namespace faultline::engine
