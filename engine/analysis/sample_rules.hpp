#pragma once
// Rules judged over the samples themselves rather than over windows: at every moment t, over the
// samples intended in the sliding window (t - span, t]. The result is a list of moments where the
// rule's truth changes, each with its resolution (how far apart the samples that decide it are).
// MTTD and MTTR (recovery_times.hpp) are read from these. docs/analysis.md defines them.

#include "engine/rule.hpp"
#include "probes/sample_log.hpp"

#include <map>
#include <string>
#include <vector>

namespace faultline::engine {

// Each series' samples by name ("load", probe names), in intended order.
using series_samples = std::map<std::string, probes::sample_log, std::less<>>;

// From `at` (seconds from the start of the run) on, the truth is `holds`, until the next change.
// `resolution` is the gap between the samples around the change: the moment is known to that.
struct truth_change {
  double at = 0;
  bool holds = false;
  double resolution = 0;
  friend bool operator==(const truth_change&, const truth_change&) = default;
};

// The truth of `r` over time; the first change is at 0. A rule without samples in the window
// does not hold, except that `count`, `errors` and `rps` are 0 then. Latency statistics follow
// the histogram's nearest-rank percentile (p95 of 20 samples is the 19th smallest) on exact
// latencies. A `value` rule reads the value in effect at t: a probe's value is taken to change
// halfway between the sample that last showed the old value and the first that shows the new
// one (samples timed at their completion), and to expire `span` after it was read.
// `samples` null: no such series; the rule never holds.
std::vector<truth_change> rule_truth(const rule& r, const probes::sample_log* samples, double span);

// Where every rule holds at once (none: always).
std::vector<truth_change> steady_truth(const std::vector<rule>& rules, const series_samples& samples, double span);

// The truth at moment t.
bool holds_at(const std::vector<truth_change>& truth, double t);

}  // namespace faultline::engine
