#pragma once
// Circuit-breaker states over time, seen from outside (the load's response classes) or read from a
// state probe (0 closed, 1 open, 2 half-open), and what they add up to: time to open, time to
// close, flaps.

#include "reports/journal.hpp"

#include <optional>
#include <string>
#include <vector>

namespace faultline::engine {

enum class breaker_state { closed, open, half_open };

const char* to_string(breaker_state s);

// One state per window from a state probe's values; windows without a value (or with a value
// that is not 0, 1 or 2) keep the previous state.
std::vector<breaker_state> states_from_probe(const std::vector<reports::window_point>& windows);

// One state per window inferred from the load's responses, each classed ok, slow failure or fast
// failure (an error faster than settings.fast_failure):
//   closed -> open       a window dominated (>= 50%) by fast failures after slow failures were seen
//   open -> half_open    mixed traffic: fast failures below 50% with some ok or slow responses
//   half_open -> open    dominated by fast failures again
//   open/half_open -> closed  no fast failures: nothing is rejected any more
std::vector<breaker_state> states_inferred(const std::vector<reports::window_point>& load);

// Transitions at window starts, time to open from `fault_start`, time to close (the first close
// after the last opening) from `last_revert` (clamped at 0), and flaps (openings after the first).
reports::breaker_record summarize_breaker(const std::vector<breaker_state>& states, double window_seconds,
                                          double fault_start, double last_revert, std::string source);

// How far two views agree: "the inferred state matched the probe in 92% of windows".
std::string cross_check(const std::vector<breaker_state>& probe, const std::vector<breaker_state>& inferred);

}  // namespace faultline::engine
