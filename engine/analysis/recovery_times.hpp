#pragma once
// Steady state per window, and the two times measured against it: MTTD (fault start -> first
// window that breaks the steady-state rules) and MTTR (last revert -> start of the first run of
// `stable_for` consecutive steady windows).

#include "engine/rule.hpp"
#include "reports/journal.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace faultline::engine {

// Windows of every series by name, all on the same grid (window i starts at i * window).
using series_windows = std::map<std::string, std::vector<reports::window_point>>;

// Whether every rule holds in window `index`. A rule without data in that window does not hold:
// a system that stopped answering is not steady.
bool window_steady(const std::vector<rule>& rules, const series_windows& series, std::size_t index,
                   double window_seconds);

// The rule that broke steady state in window `index`, for messages; none when steady.
std::optional<std::string> first_broken_rule(const std::vector<rule>& rules, const series_windows& series,
                                             std::size_t index, double window_seconds);

std::size_t window_count(const series_windows& series);

// Seconds from `fault_start` to the start of the first window at or after it (the window that
// contains the fault start counts) that is not steady, searched until `until`. Clamped at 0.
std::optional<double> mttd(const std::vector<rule>& rules, const series_windows& series, double window_seconds,
                           double fault_start, double until);

// Seconds from `last_revert` to the start of the first run of `stable_windows` consecutive steady
// windows that starts no earlier than a quarter window before the revert and no later than
// `last_revert + timeout`. None when the system did not recover in time.
std::optional<double> mttr(const std::vector<rule>& rules, const series_windows& series, double window_seconds,
                           double last_revert, std::size_t stable_windows, double timeout);

}  // namespace faultline::engine
