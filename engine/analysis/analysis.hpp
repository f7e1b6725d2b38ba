#pragma once
// The analysis: pure functions from what a run observed to what it means: per-phase stats and
// degradation, MTTD, MTTR, breaker behaviour, SLA tier, graded expectations, the resilience score,
// and the verdict. docs/analysis.md defines every number.

#include "engine/experiment.hpp"
#include "reports/journal.hpp"

#include <optional>
#include <string>
#include <vector>

namespace faultline::engine {

// What the runner observed, in journal terms. Windows of all series share one grid starting at 0.
struct run_facts {
  double window = 1;                             // seconds
  std::vector<reports::phase_span> phases;       // steady_before, baseline, fault, recovery, after
  std::vector<reports::fault_record> faults;
  std::vector<reports::series_record> series;
  std::vector<reports::phase_stat> phase_stats;  // per series and phase, from the full histograms
  std::vector<reports::capacity_search_record> capacity;  // a capacity run's searches
  bool steady_before_failed = false;
  std::string steady_before_reason;
  bool aborted = false;
  std::string abort_reason;
  std::string error;    // an injection or environment failure that stopped the run
  int error_exit = 4;   // 2 for invalid input or environment, 4 for internal errors
};

reports::analysis_record analyse(const experiment& x, const run_facts& facts);
reports::verdict_record decide(const run_facts& facts, const reports::analysis_record& analysis);

// Fills p95_ratio and error_rate_delta of each phase stat against its series' baseline.
void add_degradation(std::vector<reports::phase_stat>& stats);

// A measured value in its statistic's unit, for people ("42.1ms", "3.2%", "812.0/s").
std::string measured_text(statistic stat, double value);

const reports::phase_span* find_phase(const std::vector<reports::phase_span>& phases, const std::string& name);

}  // namespace faultline::engine
