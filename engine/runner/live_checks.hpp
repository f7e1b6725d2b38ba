#pragma once
// Decisions the runner makes while the run goes on, from windows that are complete: every sample
// intended in them has finished (a window closes one request timeout after it ends).

#include "engine/analysis/recovery_times.hpp"
#include "engine/experiment.hpp"
#include "engine/runner/run_control.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace faultline::engine {

class live_checks {
public:
  // `settle`: how long after a window ends its last sample may still finish (the longest timeout).
  live_checks(const experiment& x, const probes::timeline& t, std::chrono::nanoseconds settle);

  // Windows [0, n) are complete at offset `now`.
  std::int64_t complete_windows(std::chrono::nanoseconds now) const;
  // The offset at which window `index` will be complete.
  std::chrono::nanoseconds complete_at(std::int64_t index) const;

  // The first window at or after `from_window` that starts a run of `needed` steady windows, all
  // complete by `now`.
  std::optional<std::int64_t> steady_run(std::int64_t from_window, std::int64_t needed,
                                         std::chrono::nanoseconds now) const;
  // The steady-state rule that broke most recently in a complete window, for messages.
  std::optional<std::string> last_broken_rule(std::int64_t from_window, std::chrono::nanoseconds now) const;

  // The first abort_when rule that holds (with its `for`) in the latest complete window.
  std::optional<std::string> abort_rule(std::int64_t from_window, std::chrono::nanoseconds now) const;

  // Windows needed to cover a duration.
  std::int64_t windows_for(std::chrono::nanoseconds d) const;
  std::chrono::nanoseconds window() const { return timeline_.options().window; }
  std::chrono::nanoseconds settle() const { return settle_; }

private:
  series_windows windows_until(std::int64_t end) const;

  const experiment& x_;
  const probes::timeline& timeline_;
  std::chrono::nanoseconds settle_;
};

// Requests an abort when an abort_when rule holds in a complete window from `from_window` on;
// every half window until the run aborts or finishes.
// `timeline_start` is offset 0.
boost::asio::awaitable<void> watch_abort_rules(run_control& control, const live_checks& checks,
                                               clock::time_point timeline_start, std::int64_t from_window);

}  // namespace faultline::engine
