#pragma once
// The breaking point: the highest arrival rate at which the rules hold. The search steps the rate
// up by a factor until a trial breaks a rule, then bisects between the last rate that held and the
// first that did not, until the two are within the precision or the time limit is spent. Pure: the
// caller runs each trial (the runner with real load, tests with a model) and reports what it saw.

#include "core/params.hpp"
#include "engine/experiment.hpp"
#include "reports/journal.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faultline::engine {

// The keys of `load.capacity` (and the options of `faultline capacity`), declared once.
const param_schema& capacity_search_params();
// The search from `load.capacity` parameters (defaults filled in); `require` is left to the caller.
// Throws param_error naming the parameter.
capacity_search_spec capacity_search_from(const params& p);

// One trial: the load held at a rate for the trial's length (the journal's capacity_point).
using capacity_trial = reports::capacity_point;
// A finished search, as the journal records it (condition and faults are the caller's to fill).
using capacity_result = reports::capacity_search_record;

class capacity_search {
public:
  explicit capacity_search(const capacity_search_spec& spec);

  // The rate of the next trial; none when the search is over.
  std::optional<double> next() const;
  void record(const capacity_trial& trial);
  // Ends the search where it is (the time limit).
  void stop_early() { out_of_time_ = next().has_value(); stopped_ = true; }
  capacity_result result() const;
  // An upper bound on the trials still to come (for progress).
  int trials_left_at_most() const;

private:
  capacity_search_spec spec_;
  std::vector<capacity_trial> trials_;
  std::optional<double> held_;   // highest rate that held
  std::optional<double> broke_;  // lowest rate that broke
  bool stopped_ = false;
  bool out_of_time_ = false;
};

// The knee of the latency curve: among trials sorted by rate, the one furthest below the straight
// line from the first to the last point when both rate and p99 are scaled to 0..1 (Kneedle, for a
// convex rising curve). None with fewer than three trials with latency, or a curve that is
// nearly straight (no point more than 0.1 below the line).
std::optional<double> knee_of(const std::vector<capacity_trial>& trials);

}  // namespace faultline::engine
