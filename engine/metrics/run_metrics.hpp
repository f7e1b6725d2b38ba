#pragma once
// A run's own Prometheus metrics, from what the runner knows: the run (experiment, run id), the
// phase under way, each fault step's fault_active, requests by series and outcome with their
// latency histograms (from the Timeline), probe values and resource quantities, the breaker
// state, the steady-state rules, and once the run is over its score, tier and verdict. Every
// name is listed in docs/metrics.md.

#include "core/prometheus.hpp"
#include "engine/experiment.hpp"
#include "probes/probe.hpp"
#include "probes/timeline.hpp"
#include "reports/journal.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::engine {

// The phases run_status::phase takes, in order (faultline_run_phase's `phase` label): a run with
// a fault timeline, a levels run (load.levels) and a capacity run (capacity:).
inline constexpr std::array<std::string_view, 7> metric_phases{"starting", "steady_before", "baseline", "fault",
                                                               "recovery", "after", "done"};
inline constexpr std::array<std::string_view, 3> level_run_phases{"starting", "level", "done"};
inline constexpr std::array<std::string_view, 4> capacity_run_phases{"starting", "capacity", "capacity_under_fault", "done"};

// What the runner is doing, as the metrics show it.
struct run_status {
  struct step_status {
    std::string name;
    std::string type;
    std::string target;
    bool active = false;
  };
  // A capacity search so far: its trials and the arrival rate of the latest (requests per second).
  struct search_status {
    std::string search;  // healthy, under_fault
    int trials = 0;
    double rate = 0;
  };
  std::span<const std::string_view> phases = metric_phases;  // the phases this kind of run goes through
  std::string_view phase = "starting";  // one of `phases`
  std::vector<step_status> steps;        // fault steps (actions are not faults)
  std::vector<std::string> levels;       // a levels run: every level's name, in order
  std::optional<std::size_t> level;      // ... and the one under way
  std::vector<search_status> searches;   // a capacity run: the searches begun so far
};

// Where the runner sends its metrics (the command line's endpoint and textfile). Called on the
// run's thread.
class metrics_sink {
public:
  virtual ~metrics_sink() = default;
  // `run`: the run's families; `proxies`: its proxies' families, as the proxy daemon's /metrics
  // writes them (empty without proxies). `final`: the last publication of this run.
  virtual void publish(const prometheus::exposition& run, const prometheus::exposition& proxies, bool final) = 0;
};

class run_metrics {
public:
  // `settle`: a window is final this long after it ends (as the live checks count it).
  run_metrics(const experiment& x, std::string run_id, const probes::probe_registry& probe_types,
              std::chrono::nanoseconds settle);

  // While the run goes on, at offset `now` of `t`: windows final by then are folded in once,
  // newer ones are read afresh, so counters only grow and scrapes stay cheap.
  prometheus::exposition live(const run_status& s, const probes::timeline& t, std::chrono::nanoseconds now);
  // Once the run is over: every window (the counts equal the journal's), and the verdict. `t` is
  // null when the run stopped before sampling began.
  prometheus::exposition final(const run_status& s, const probes::timeline* t, const reports::journal& j);

private:
  struct series_state {
    std::int64_t folded = 0;  // windows [0, folded) are in the sums below
    probes::outcome_counts outcomes{};
    std::uint64_t late = 0;
    prometheus::latency_buckets latency;
    std::optional<std::pair<std::chrono::nanoseconds, double>> last_value;  // intended offset, value
    std::vector<reports::window_point> points;  // the folded windows, for rules and the breaker
    void add(const probes::window& w);
  };

  void fold(const probes::timeline& t, std::int64_t final_windows);
  void write_run(prometheus::exposition& out, const run_status& s) const;
  void write_series(prometheus::exposition& out, const std::map<std::string, series_state>& all) const;
  void write_judgement(prometheus::exposition& out, const std::map<std::string, series_state>& all,
                       const probes::timeline& t) const;
  void write_result(prometheus::exposition& out, const reports::journal& j) const;
  // The current series: the folded ones plus the windows of `t` from their `folded` on.
  std::map<std::string, series_state> current(const probes::timeline& t) const;
  prometheus::labels with_experiment(prometheus::labels more = {}) const;

  const experiment& x_;
  std::string run_id_;
  const probes::probe_registry& probe_types_;
  std::chrono::nanoseconds settle_;
  std::map<std::string, series_state> folded_;
  std::optional<double> start_time_;  // the wall clock (Unix seconds) at the Timeline's offset 0
};

}  // namespace faultline::engine
