#pragma once
// Rules measured against data: one window of a series (steady state, abort_when, live checks) or a
// whole phase (expect.during_fault). No data means "unknown", which callers decide how to treat.

#include "engine/rule.hpp"
#include "reports/journal.hpp"

#include <optional>
#include <vector>

namespace faultline::engine {

// The statistic's value in a window, in the rule's canonical unit (seconds, 0..1, per second,
// count, value, 1/0 for ok). None when the window has no samples for it.
std::optional<double> measure(statistic stat, const reports::window_point& w, double window_seconds);
// The statistic over a phase. `value` has no phase-wide measure (none).
std::optional<double> measure(statistic stat, const reports::phase_stat& p);

// Whether the rule holds in the window (ignoring `for`); none when there is no data.
std::optional<bool> holds(const rule& r, const reports::window_point& w, double window_seconds);

// Whether the rule holds over a phase: phase-wide statistics for latency, fractions, rates and
// counts; `ok` means no sample failed; `value` must hold in every window of the phase that has one.
std::optional<bool> holds_over_phase(const rule& r, const reports::phase_stat& p,
                                     const std::vector<const reports::window_point*>& windows, double window_seconds);

// Whether `r` holds at window `index` of `windows` including its `for`: the condition held in the
// last ceil(for / window) windows up to and including `index`.
bool holds_sustained(const rule& r, const std::vector<reports::window_point>& windows, std::size_t index,
                     double window_seconds);

}  // namespace faultline::engine
