#pragma once
// Circuit-breaker transitions from the samples: read from a state probe (0 closed, 1 open,
// 2 half-open), inferred from the load's requests one by one, or both (the load, usually far more
// frequent, pins down when each transition the probe saw happened, and shows half-open trials
// shorter than the probe's period). And what they add up to: time to open, time to close, flaps.
// docs/analysis.md defines each with its resolution.

#include "probes/sample_log.hpp"
#include "reports/journal.hpp"

#include <string>
#include <vector>

namespace faultline::engine {

enum class breaker_state { closed, open, half_open };

const char* to_string(breaker_state s);

// One transition: it happened in (after, by]; `at` is the best estimate (seconds from the start).
struct breaker_event {
  double at = 0;
  double after = 0;
  double by = 0;
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::open;
  std::string seen_by;  // "probe", "load" or "probe+load"

  double resolution() const { return by - after; }
  friend bool operator==(const breaker_event&, const breaker_event&) = default;
};

// How a load request looks to the breaker analysis.
enum class request_class {
  rejected,      // failed or answered by a fallback, faster than fast_failure: refused without a call
  slow_failure,  // failed or answered by a fallback after waiting: the call was made and failed
  ok,            // answered, not by a fallback
};
request_class classify(const probes::logged_sample& s, double fast_failure);

// Transitions a state probe saw: each at the first sample showing the new state (samples timed at
// their completion), placed halfway since the previous sample. A state seen in one sample counts;
// a state the breaker must have passed through unseen (open between closed and half-open,
// half-open between open and closed) is added in the same interval.
std::vector<breaker_event> transitions_from_probe(const probes::sample_log& probe);

// Transitions inferred from the load's requests alone (in intended order):
//   closed -> open        a run of `min_rejections` rejected requests after slow failures
//   open -> half_open     a request that is not rejected among rejected ones (a trial)
//   half_open -> open     when a trial fails: its completion
//   half_open -> closed   when trials succeed and nothing is rejected any more: the trial's completion
std::vector<breaker_event> transitions_inferred(const probes::sample_log& load, double fast_failure);

// The probe's transitions, each narrowed by the load's requests where they show it, plus the
// half-open trials the load saw inside a stretch the probe saw open (a flap shorter than the
// probe's period).
std::vector<breaker_event> refine_with_load(const std::vector<breaker_event>& probe, const probes::sample_log& load,
                                            double fast_failure);

// The record: transitions, time to open (fault start -> the first opening after it), time to close
// (last revert -> the first close after the last opening, 0 when before), flaps (re-openings:
// half_open -> open), each time with its resolution.
reports::breaker_record summarize_breaker(const std::vector<breaker_event>& events, double fault_start,
                                          double last_revert, std::string source);

// How the load's own view agreed with the probe's, event by event.
std::string cross_check(const std::vector<breaker_event>& probe, const std::vector<breaker_event>& inferred);

inline constexpr int min_rejections = 3;

}  // namespace faultline::engine
