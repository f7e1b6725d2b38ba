#pragma once
// The analysis of load-test runs: rules judged over a whole span (a level, a capacity trial), one
// record per level of `load.levels` with its expectation, the expectations on the capacity, and
// the verdict's words for the first level that missed.

#include "engine/analysis/analysis.hpp"
#include "engine/analysis/recovery_times.hpp"
#include "engine/experiment.hpp"
#include "reports/journal.hpp"

#include <optional>
#include <string>
#include <vector>

namespace faultline::engine {

// The journal phase of level `name`.
std::string level_phase(const std::string& name);

// Each rule over the span [start, end): its statistic over the span's samples (`stats` holds one
// phase_stat per series for the span), `value` in every window of the span. A rule whose series
// has no samples there does not hold.
std::vector<reports::rule_result> judge_span(const std::vector<rule>& rules, const std::vector<reports::phase_stat>& stats,
                                             const series_windows& windows, double window, double start, double end);

// Copies the total load's figures over a span (count, rate, error rate, p50/p95/p99) from its
// phase statistics into a level's record or a live span's result.
template <typename Figures>
void take_load_figures(const std::vector<reports::phase_stat>& stats, Figures& out) {
  for (const auto& s : stats) {
    if (s.series != "load") continue;
    out.count = s.count;
    out.rate = s.rps;
    out.error_rate = s.error_rate;
    out.p50 = s.p50;
    out.p95 = s.p95;
    out.p99 = s.p99;
  }
}

// One record per level that ran (its phase is in `facts.phases`), in order.
std::vector<reports::level_record> level_records(const experiment& x, const run_facts& facts);

// Adds an expectation per level ("level:<name>": every rule held) and per capacity target.
void add_load_test_expectations(const experiment& x, reports::analysis_record& out);

// "level '1000-users' (1000 users) missed: ..." when a level missed; none otherwise.
std::optional<std::string> first_missed_level(const reports::analysis_record& analysis);

}  // namespace faultline::engine
