#pragma once
// Margins: how far an expectation's measured value lies from its boundary, with a 95 % interval
// and whether that interval spans the boundary (borderline); and the within-run spread of a phase
// figure (a bootstrap over its windows) that intervals and SLA tier ranges come from.
// docs/analysis.md, "Margins".

#include "reports/journal.hpp"
#include "reports/stats.hpp"

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace faultline::reports {

enum class bound_kind { at_most, at_least };  // the measured value must stay below / above the boundary

// A margin from the measured value, its boundary and the value's interval (none: no spread known).
margin_record make_margin(std::string quantity, std::string unit, double measured, double boundary, bound_kind kind,
                          std::optional<stats::interval> measured_interval, std::string basis);

// The median of one quantity's margins over several runs, its interval a bootstrap of that median
// across the runs (basis "runs"); borderline when it spans the boundary. `per_run` is not empty.
margin_record margin_across_runs(const std::vector<margin_record>& per_run, const stats::bootstrap_options& options = {});

// The values of one window field over the windows of `series` that start within `phase` and hold
// samples.
std::vector<double> window_values(const std::vector<series_record>& series, const std::string& name, const phase_span& phase,
                                  const std::function<std::optional<double>(const window_point&)>& pick);

// Within-run spread of a phase figure from its windows' values. Mean-like figures (error rate,
// availability, rate): the bootstrap interval of the windows' mean, moved to centre on the figure.
// Quantile-like figures (latency): the figure scaled by the bootstrap interval of the median
// window's ratio to the median (a phase quantile is not a function of the windows' quantiles).
// Fewer than two windows: the figure alone.
stats::interval spread_of_mean(double figure, std::span<const double> windows, const stats::bootstrap_options& options = {});
stats::interval spread_of_quantile(double figure, std::span<const double> windows, const stats::bootstrap_options& options = {});

// One SLA tier's bounds (the engine's table: bronze 99.0%/1s .. platinum 99.95%/100ms), lowest first.
struct tier_bound {
  std::string name;
  double availability = 0;  // at least
  double p95 = 0;           // seconds, at most
};

// The tier range a set of runs (or one run, from its windows) reaches: `low` at the interval's
// worse ends, `high` at its better ends. Borderline when they differ: shown "silver..platinum".
struct tier_range {
  std::string low = "none", high = "none";
  bool borderline() const { return low != high; }
  std::string text() const { return borderline() ? low + ".." + high : low; }
};

// The highest tier whose bounds both hold; "none" when none does.
std::string tier_at(const std::vector<tier_bound>& tiers, double availability, double p95);
tier_range tier_range_between(const std::vector<tier_bound>& tiers, stats::interval availability, stats::interval p95);

// A signed value in a margin's unit ("+58ms", "-0.12 pp", "+3.5") and a margin with its interval:
// "+58ms [+12ms, +96ms]", with " borderline" when it spans the boundary.
std::string format_margin_value(const std::string& unit, double value);
std::string format_margin(const margin_record& m);

// What a margin's interval comes from, for a reader: "over 28 windows" is not known here, so
// "bootstrap over the phase's windows", "the time's resolution", ...
std::string margin_basis_text(const std::string& basis);

// The margins of a run's threshold expectations, one line each, for the terminal; empty when none.
std::string render_margins_text(const std::vector<expectation_record>& expectations);

}  // namespace faultline::reports
