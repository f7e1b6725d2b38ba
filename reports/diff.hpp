#pragma once
// Run-to-run comparison of two journals of the same experiment: score, SLA tier, MTTR, breaker
// times and flaps, p99 and error rate per series and phase, expectations and verdict. A change
// beyond its threshold is a regression, unless it is borderline (an expectation or tier whose
// interval spans its boundary); `faultline diff` and `faultline run --baseline` exit 1 on one.

#include "reports/journal.hpp"

#include <optional>
#include <string>
#include <vector>

namespace faultline::reports {

// The limits a new run may move by before it counts as a regression. Defaults are documented in
// docs/reports.md and printed by `faultline diff --help`.
struct diff_thresholds {
  double max_score_drop = 5;                // score points
  std::optional<double> max_mttr_increase;  // seconds; when set it replaces the ratio below
  double max_mttr_increase_ratio = 0.25;    // +25%; never less than one analysis window
  double max_p99_increase_ratio = 0.25;     // +25% per series and phase
  double min_p99_increase = 0.005;          // seconds: smaller p99 changes are noise
  double max_error_rate_increase = 0.01;    // absolute, per series and phase: +1 percentage point
  double max_breaker_time_increase_ratio = 0.25;  // time to open / to close: +25%,
  double min_breaker_time_increase = 0.05;        // and at least 50ms and the times' resolution
  double max_flaps_increase = 1;                  // breaker re-openings: more than one more is a regression
  bool allow_tier_drop = false;
  bool allow_new_failures = false;          // newly missed expectations and a verdict that stopped passing
};

enum class change_kind { unchanged, improved, worse, regression };  // worse: within its threshold

struct metric_change {
  std::string metric;  // "score", "sla_tier", "mttr", "p99 load/fault", "error_rate load/fault", "expectation mttr", "verdict"
  std::string before;  // as shown, e.g. "4s", "gold", "met"
  std::string after;
  std::string delta;   // "+8s (+200%)", "" when not numeric
  std::string limit;   // "≤ +25%", "" when none applies
  std::optional<double> before_value, after_value;
  change_kind kind = change_kind::unchanged;
  std::string note;    // why a change beyond its limit is not a regression (reports/run_sets.hpp)
};

struct run_diff {
  std::string experiment;  // the new run's experiment
  std::string run_before, run_after;
  // Non-empty when the journals are of different experiments: the comparison means little, and
  // the CLI refuses it (exit 2) unless told otherwise.
  std::string mismatch;
  std::vector<metric_change> changes;

  std::size_t regressions() const;
  bool regressed() const { return regressions() > 0; }
};

run_diff compare_runs(const journal& before, const journal& after, const diff_thresholds& limits = {});

// A fixed-width table for a terminal, and a Markdown table for a CI job summary.
std::string render_diff_text(const run_diff& diff);
std::string render_diff_markdown(const run_diff& diff);

const char* to_string(change_kind kind);

}  // namespace faultline::reports
