#pragma once
// One timeline step from start to end: wait for its time, record how to undo it in the state
// file, inject, wait for its end (a duration, recovery, the operator, another step), revert, and
// remove the record. On abort it reverts at once. It never throws; failures land in its record.

#include "engine/experiment.hpp"
#include "engine/runner/event.hpp"
#include "engine/runner/run_control.hpp"
#include "engine/state_file.hpp"
#include "faults/fault.hpp"
#include "reports/journal.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace faultline::engine {

// What a step needs from the run it belongs to.
struct step_environment {
  run_control* control = nullptr;
  state_file* state = nullptr;
  std::string run_id;
  std::string experiment;
};

// What a step needs from the fault phase it runs in, known once the baseline is over.
struct fault_phase {
  clock::time_point run_start;  // offset 0 of the timeline; the record's times count from here
  clock::time_point start;      // the start of the fault phase; `at` counts from here
  // Waits until the steady-state rules hold for `stable_for` in windows after `since`.
  std::function<boost::asio::awaitable<void>(clock::time_point since)> recovered;
};

class step_runner {
public:
  // `s.fault_type` is the step's type (the loader resolved it); `fault` was made from it.
  step_runner(const step& s, std::unique_ptr<faults::fault> fault, const step_environment& env);

  // `until: <step>`: this step ends when `other` ends.
  void end_with(event& other) { until_ = &other; }

  const step& spec() const { return step_; }
  faults::fault& fault() { return *fault_; }
  bool active() const { return active_; }
  event& ended() { return ended_; }
  // The journal's account of this step (times as offsets from the run start).
  const reports::fault_record& record() const { return record_; }

  boost::asio::awaitable<void> run(fault_phase phase);
  // Reverts now if the fault is active (used on abort and on shutdown). Safe to call twice.
  boost::asio::awaitable<void> revert_now(std::string why);  // by value: a coroutine outlives its caller's temporaries

private:
  boost::asio::awaitable<void> run_action();
  boost::asio::awaitable<void> wait_for_end();
  double offset_now() const;
  void capture_evidence();

  const step& step_;
  std::unique_ptr<faults::fault> fault_;
  step_environment env_;
  run_control& control_;
  fault_phase phase_;
  event ended_;
  event* until_ = nullptr;
  bool active_ = false;
  bool reverting_ = false;
  bool recorded_undo_ = false;
  reports::fault_record record_;
};

// One runner per step of `x`, in order, each with its fault (`faults[i]` belongs to step i);
// `until: <step>` is wired to that step's runner.
std::vector<std::unique_ptr<step_runner>> make_step_runners(const experiment& x,
                                                            std::vector<std::unique_ptr<faults::fault>> faults,
                                                            const step_environment& env);

}  // namespace faultline::engine
