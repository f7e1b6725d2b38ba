#pragma once
// Comparing sets of runs of one experiment: per figure the median of each set, the change with a
// bootstrap interval and a Mann-Whitney p-value across runs; a regression only when the change is
// beyond its threshold and significant. With one run a side, the within-run spread (a bootstrap
// over windows) bounds the noise. SLA tiers whose interval spans a boundary are borderline.

#include "reports/diff.hpp"
#include "reports/journal.hpp"
#include "reports/margins.hpp"
#include "reports/stats.hpp"

#include <optional>
#include <string>
#include <vector>

namespace faultline::reports {

struct set_options {
  diff_thresholds limits;
  double alpha = 0.05;  // significance level of the Mann-Whitney test
  stats::bootstrap_options bootstrap;
  std::vector<tier_bound> tiers;  // lowest first; no tier check when empty
};

struct figure_change {
  std::string metric;           // "p99 load/fault", "error_rate load/fault", "score", "mttr", "sla_tier", "breaker flaps", "margin mttr"
  std::optional<double> before, after;  // medians over the runs (one run: its figure)
  std::optional<double> change;         // relative (p99, p95, mttr) or absolute (error rate, score)
  std::optional<stats::interval> interval;  // of `change`, 95 %
  std::optional<double> p;              // Mann-Whitney two-sided p across runs; none with one run a side
  bool relative = true;
  std::string unit;   // margin rows: the margin's unit (reports/margins.hpp); empty for the figures
  std::string shown;  // "p99 load/fault +18 % [+11 %, +26 %], p = 0.004"
  std::string note;   // why it is not a regression although beyond its threshold, e.g. "not significant"
  change_kind kind = change_kind::unchanged;
  bool borderline = false;  // a tier change between overlapping borderline ranges
};

struct set_diff {
  std::string experiment;
  std::size_t runs_before = 0, runs_after = 0;
  std::string mismatch;  // journals of different experiments (the CLI refuses unless told otherwise)
  std::string caveat;    // e.g. "one run a side: cannot tell noise from change ..."
  tier_range tier_before, tier_after;
  std::vector<figure_change> changes;

  std::size_t regressions() const;
  bool regressed() const { return regressions() > 0; }
};

set_diff compare_sets(const std::vector<journal>& before, const std::vector<journal>& after, const set_options& options = {});

// The tier range of a set of runs: the load's fault-phase availability and p95 intervals (across
// runs, or over windows for a single run) against `tiers`.
tier_range tier_range_of(const std::vector<journal>& runs, const set_options& options);

// One run a side: `compare_runs`' table, with its p99, p95 and error-rate regressions kept only
// when they lie outside the within-run spread (`spread`, compare_sets of the same two runs), and
// the tier and the SLA expectation not called regressions when either tier is borderline.
void bound_by_spread(run_diff& diff, const set_diff& spread);

std::string render_set_diff_text(const set_diff& diff);
std::string render_set_diff_markdown(const set_diff& diff);

}  // namespace faultline::reports
