#pragma once
// The live part of a run as a list of phases, run in order until one ends the run: the steady
// state before, the baseline, the fault timeline, recovery, and the steady state after. Every
// decision (when a phase starts and ends, when a step starts, whether the rules hold, abort_when)
// reads the run's clock and the complete windows of the Timeline, so a test can drive it with a
// manual clock. The probes and the load keep real time: they measure the real system.

#include "engine/experiment.hpp"
#include "engine/runner/live_checks.hpp"
#include "engine/runner/progress.hpp"
#include "engine/runner/run_control.hpp"
#include "engine/runner/step_runner.hpp"
#include "probes/timeline.hpp"
#include "reports/journal.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::engine {

class phase_sequence {
public:
  // Offset 0 is the timeline's start; the steps are run in the fault phase.
  phase_sequence(const experiment& x, run_control& control, probes::timeline& timeline, const live_checks& checks,
                 progress& status, std::vector<std::unique_ptr<step_runner>>& steps);

  // Runs the phases in order until one ends the run (the steady state not met, an abort, a
  // failure), then reverts whatever is still active. Never throws: an internal error stops the run.
  boost::asio::awaitable<void> run();

  // The phases as they happened (steady_before, baseline, fault, recovery, after), in seconds.
  const std::vector<reports::phase_span>& spans() const { return spans_; }
  // The phase under way: steady_before, baseline, fault (from the end of the baseline until the
  // last step ends), recovery, after; "starting" before and "done" once everything is reverted.
  std::string_view current_phase() const { return current_; }
  // Why the steady state before the faults was not met; none when it was (or was not checked).
  const std::optional<std::string>& steady_before_failure() const { return steady_before_failure_; }

private:
  using phase = boost::asio::awaitable<bool> (phase_sequence::*)();  // false: the run ends here

  boost::asio::awaitable<bool> steady_before();
  boost::asio::awaitable<bool> baseline();
  boost::asio::awaitable<bool> fault_timeline();
  boost::asio::awaitable<bool> recovery();
  boost::asio::awaitable<bool> after();

  // The one steady-state wait: until the rules hold in `needed` consecutive complete windows from
  // window `from`. Returns the first window of that run; none at `deadline` or on abort.
  boost::asio::awaitable<std::optional<std::int64_t>> wait_steady(std::int64_t from, std::int64_t needed,
                                                                  clock::time_point deadline);
  // `until: recovered`: the rules hold for recovery.stable_for in windows after `since`.
  boost::asio::awaitable<void> recovered(clock::time_point since);
  boost::asio::awaitable<void> revert_all(const std::string& why);

  std::chrono::nanoseconds offset() const;  // now, from the timeline's start
  clock::time_point at(std::chrono::nanoseconds offset) const { return timeline_.start() + offset; }
  std::int64_t window_index(std::chrono::nanoseconds offset) const;
  // The first window that counts after a change at `offset`: the one holding it, unless the change
  // came in that window's last quarter.
  std::int64_t first_window_after(std::chrono::nanoseconds offset) const;

  const experiment& x_;
  run_control& control_;
  probes::timeline& timeline_;
  const live_checks& checks_;
  progress& status_;
  std::vector<std::unique_ptr<step_runner>>& steps_;

  std::string_view current_ = "starting";
  std::vector<reports::phase_span> spans_;
  std::optional<std::string> steady_before_failure_;
  // Offsets from the timeline's start, set as the phases go.
  std::chrono::nanoseconds baseline_start_{};
  std::chrono::nanoseconds fault_phase_start_{};
  std::chrono::nanoseconds fault_end_{};
  std::chrono::nanoseconds after_start_{};
};

}  // namespace faultline::engine
