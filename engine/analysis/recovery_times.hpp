#pragma once
// The two times measured against the steady state: MTTD (fault start -> the first moment a
// steady-state rule breaks) and MTTR (last revert -> the start of the first stretch of
// `stable_for` in which every rule holds), both over the samples (sample_rules.hpp), each with its
// resolution. Also steady state per window, which the runner's live decisions read.

#include "engine/analysis/sample_rules.hpp"
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

// A time in seconds and the width of the interval it is known to lie in.
struct measured_time {
  double seconds = 0;
  double resolution = 0;
  friend bool operator==(const measured_time&, const measured_time&) = default;
};

// From `fault_start` to the first moment at or after it, before `until`, at which `steady` does
// not hold (0 when it did not hold at the fault start). None: steady throughout.
std::optional<measured_time> mttd(const std::vector<truth_change>& steady, double fault_start, double until);

// From `last_revert` to the start of the first stretch of at least `stable_for` seconds in which
// `steady` holds, that starts within `timeout` of the revert and ends by `data_end` (a stretch
// under way at the revert counts from the revert: 0). None: not recovered.
std::optional<measured_time> mttr(const std::vector<truth_change>& steady, double last_revert, double stable_for,
                                  double timeout, double data_end);

}  // namespace faultline::engine
