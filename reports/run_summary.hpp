#pragma once
// The numbers every report shows about one run, taken from its journal alone: the key numbers
// (MTTD, MTTR, breaker), the worst p99 and error rate per phase, the series the charts draw.

#include "reports/journal.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::reports {

// The phases in the order a run goes through them; reports list phases in this order.
inline constexpr std::string_view phase_order[] = {"steady_before", "baseline", "fault", "recovery", "after"};

struct phase_extremes {
  std::string phase;
  std::optional<double> worst_p99;   // seconds; the highest p99 of any series in the phase
  std::string worst_p99_series;
  double worst_error_rate = 0;       // 0..1; the highest error rate of any series in the phase
  std::string worst_error_rate_series;
};

struct run_summary {
  std::string experiment;
  std::string result;        // the verdict: passed, failed, aborted, not_steady, error
  std::string result_title;  // "Passed", "Failed", "Aborted", "Not steady", "Error"
  std::string reason;
  double score = 0;
  std::string sla_tier;
  double duration = 0;       // seconds, the run from start to its last recorded moment
  std::size_t expectations = 0;
  std::size_t expectations_met = 0;
  std::optional<double> mttd, mttr;
  std::optional<double> mttd_resolution, mttr_resolution;
  bool recovered = false;
  std::optional<double> breaker_opened, breaker_closed;  // time to open (from fault start), to close (from last revert)
  std::optional<double> breaker_opened_resolution, breaker_closed_resolution;
  std::int64_t breaker_flaps = 0;
  bool breaker_seen = false;
  std::vector<phase_extremes> phases;  // in phase_order, only phases that have stats
};

run_summary summarize(const journal& j);

// "Passed", "Failed", "Aborted", "Not steady", "Error"; an unknown result is shown as written.
std::string result_title(std::string_view result);

// The run's length: the latest phase end, window end or revert.
double run_duration(const journal& j);

const phase_span* find_phase(const journal& j, std::string_view name);
const phase_stat* find_phase_stat(const journal& j, std::string_view series, std::string_view phase);
// Whether a series' latencies say something about the system under test, as the journal records
// it from the series' probe type. A probe read for its value (metric: a Prometheus scrape;
// process, cgroup: /proc and /sys) has latencies that are the cost of reading it, which follows
// the machine's load, so runs are not compared on them.
bool latency_describes_system(const journal& j, std::string_view series);
// The series the charts draw: the load if there is one, else the first series with latencies.
const series_record* primary_series(const journal& j);
// Phase names in phase_order first, then any other phase in the order the journal lists it.
std::vector<std::string> ordered_phase_names(const journal& j);

}  // namespace faultline::reports
