// What the end of a long run costs: a synthetic run (1 hour at 1,000 requests per second with two
// probes by default) recorded into a Timeline the way the runner records it, then the journal
// built (windows, phase statistics, sample logs, the analysis) and written. Prints the time of
// each step, the analysis alone, the journal's size and the process's peak memory.
// Usage: analysis_bench [seconds 3600] [rate 1000] [journal path, default in /tmp]
//
// The run: healthy, then a fault over its middle third during which a circuit breaker opens after
// slow failures, rejects for 2 s, lets a 300 ms trial through that fails, and so on; after the
// revert it closes. A state probe reads the breaker every 200 ms, a health probe checks every 1 s.

#include "engine/analysis/analysis.hpp"
#include "engine/loader.hpp"
#include "engine/runner/run_journal.hpp"
#include "faults/fault.hpp"
#include "probes/probe.hpp"
#include "probes/timeline.hpp"
#include "reports/journal.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace faultline;
using std::chrono::nanoseconds;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double peak_rss_mb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

nanoseconds at(double s) { return nanoseconds(static_cast<std::int64_t>(s * 1e9)); }

// The breaker: closed and failing slowly for the fault's first 0.5 s, then open for 2 s and
// half-open for a 300 ms trial that fails, again and again; the first trial after the revert
// succeeds and closes it.
struct breaker_cycle {
  double fault_start, fault_end, rate;
  enum class answer { ok, slow_fallback, fast_fallback };
  static constexpr double open_for = 2.0, trial = 0.3;

  double cycle_of(double t) const { return std::fmod(t - fault_start - 0.5, open_for + trial); }
  double closes_at() const {
    double k = std::ceil((fault_end - fault_start - 0.5 - open_for) / (open_for + trial));
    return fault_start + 0.5 + std::max(0.0, k) * (open_for + trial) + open_for;
  }
  // 0 closed, 1 open, 2 half-open
  int state_at(double t) const {
    if (t < fault_start + 0.5 || t >= closes_at() + 0.001) return 0;
    if (t >= closes_at()) return 2;
    return cycle_of(t) < open_for ? 1 : 2;
  }
  answer answer_at(double t) const {
    const int state = state_at(t);
    if (state == 0) return t >= fault_start && t < fault_start + 0.5 ? answer::slow_fallback : answer::ok;
    if (state == 1) return answer::fast_fallback;
    const bool first = t >= closes_at() ? t < closes_at() + 1 / rate : cycle_of(t) < open_for + 1 / rate;
    if (!first) return answer::fast_fallback;
    return t < fault_end ? answer::slow_fallback : answer::ok;
  }
};

const char* experiment_yaml = R"yaml(version: 1
name: analysis-bench
proxies:
  db: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
load:
  http: { url: http://127.0.0.1:8080/, rate: 1000/s, fallback: { header: "X-Cache: stale" } }
probes:
  breaker: { metric: { url: http://127.0.0.1:8080/metrics, series: state, every: 200ms } }
  health: { http: { url: http://127.0.0.1:8080/health, every: 1s } }
steady_state:
  for: 3s
  require: [ "load.error_rate < 1%", "load.p95 < 250ms", "breaker.value == 0", "health.ok" ]
timeline:
  baseline: 10s
  steps:
    - { at: 0s, for: 20m, fault: latency, target: db, latency: 1s }
  recovery: { timeout: 60s, stable_for: 3s }
expect:
  sla: silver
  during_fault: [ "load.availability >= 99%" ]
  breaker: { opens_within: 3s, closes_within: 10s, probe: breaker }
  mttr: { below: 10s }
)yaml";

}  // namespace

int main(int argc, char** argv) {
  const double duration = argc > 1 ? std::atof(argv[1]) : 3600;
  const double rate = argc > 2 ? std::atof(argv[2]) : 1000;
  const std::string path = argc > 3 ? argv[3] : (std::filesystem::temp_directory_path() / "faultline-analysis-bench.json").string();

  faults::fault_registry fault_types;
  probes::probe_registry probe_types;
  faults::register_builtin_faults(fault_types);
  probes::register_builtin_probes(probe_types);
  const auto x = engine::parse_experiment(experiment_yaml, "analysis-bench.yaml", {fault_types, probe_types}, {});

  const breaker_cycle cycle{duration / 3, 2 * duration / 3, rate};
  const auto start = probes::clock::now();
  probes::timeline timeline(start);
  const double rss_before = peak_rss_mb();

  // Recording, as the samplers do (in intended order here; the runner's come in completion order).
  auto t0 = std::chrono::steady_clock::now();
  auto load = timeline.series("load");
  auto breaker = timeline.series("breaker");
  auto health = timeline.series("health");
  const auto samples = static_cast<std::int64_t>(duration * rate);
  for (std::int64_t i = 0; i < samples; ++i) {
    const double t = static_cast<double>(i) / rate;
    probes::sample s;
    s.intended = s.started = start + at(t);
    const int state = cycle.state_at(t);
    s.latency = at(0.0005 + 0.0002 * static_cast<double>(i % 7));
    switch (cycle.answer_at(t)) {
      case breaker_cycle::answer::ok: break;
      case breaker_cycle::answer::fast_fallback: s.fallback = true; break;  // refused: the stale copy, at once
      case breaker_cycle::answer::slow_fallback:                              // the call timed out: the stale copy, late
        s.fallback = true;
        s.latency = at(breaker_cycle::trial);
        break;
    }
    load.record(s);
    if (i % static_cast<std::int64_t>(rate * 0.2) == 0) {
      probes::sample p;
      p.intended = p.started = s.intended;
      p.latency = at(0.0008);
      p.value = state;
      breaker.record(p);
    }
    if (i % static_cast<std::int64_t>(rate) == 0) {
      probes::sample h;
      h.intended = h.started = s.intended;
      h.latency = at(0.001);
      health.record(h);
    }
  }
  const double record_s = seconds_since(t0);
  const double rss_recorded = peak_rss_mb();
  timeline.finish(at(duration));

  engine::run_facts facts;
  const double fault_start = cycle.fault_start, fault_end = cycle.fault_end;
  facts.phases = {{"steady_before", 0, 5}, {"baseline", 5, fault_start}, {"fault", fault_start, fault_end},
                  {"recovery", fault_end, fault_end + 10}, {"after", fault_end + 10, duration}};
  reports::fault_record f;
  f.step = "latency-1";
  f.type = "latency";
  f.target = "db";
  f.injected_at = fault_start;
  f.reverted_at = fault_end;
  f.evidence.observed = true;
  facts.faults = {f};

  t0 = std::chrono::steady_clock::now();
  auto journal = engine::build_journal(x, {"bench", "2026-01-01T00:00:00.000Z"}, facts, &timeline);
  const double build_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  reports::write_journal(journal, path);
  const double write_s = seconds_since(t0);
  const auto size = std::filesystem::file_size(path);
  const double rss_runner = peak_rss_mb();  // what the runner's own path needed, up to here

  // The analysis alone, from the facts the journal holds (what `faultline report --reanalyse` does).
  t0 = std::chrono::steady_clock::now();
  auto reread = engine::facts_of(journal);
  const double facts_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const auto analysis = engine::analyse(x, reread);
  const double analyse_s = seconds_since(t0);

  fmt::print("run: {:.0f} s at {:.0f}/s: {} load samples, {} + {} probe samples\n", duration, rate, samples,
             timeline.samples("breaker").size(), timeline.samples("health").size());
  fmt::print("record into the Timeline:        {:8.3f} s ({:.0f} ns per sample)\n", record_s, record_s * 1e9 / static_cast<double>(samples));
  fmt::print("sample log of the load:          {:8.1f} MB\n", static_cast<double>(timeline.samples("load").bytes()) / 1e6);
  fmt::print("peak memory after recording:     {:8.1f} MB (before: {:.1f} MB)\n", rss_recorded, rss_before);
  fmt::print("build the journal (the runner):  {:8.3f} s (windows, stats, sample logs, JSON, analysis)\n", build_s);
  fmt::print("read the facts back:             {:8.3f} s\n", facts_s);
  const double cycles = std::floor((cycle.fault_end - cycle.fault_start - 0.5 - breaker_cycle::open_for) /
                                    (breaker_cycle::open_for + breaker_cycle::trial)) + 1;
  fmt::print("the breaker re-opened {:.0f} times; it closed {:.3f} s after the revert\n", cycles,
             cycle.closes_at() + 0.001 - cycle.fault_end);
  fmt::print("analysis alone:                  {:8.3f} s (MTTD {}, MTTR {}, breaker flaps {})\n", analyse_s,
             analysis.mttd ? fmt::format("{:.3f} s", *analysis.mttd) : "-", analysis.mttr ? fmt::format("{:.3f} s", *analysis.mttr) : "-",
             analysis.breaker ? analysis.breaker->flaps : -1);
  fmt::print("write the journal:               {:8.3f} s, {:.1f} MB ({})\n", write_s, static_cast<double>(size) / 1e6, path);
  fmt::print("peak memory, the runner's path:  {:8.1f} MB (recording, journal built and written)\n", rss_runner);
  fmt::print("peak memory with the re-analysis:{:8.1f} MB\n", peak_rss_mb());
  std::filesystem::remove(path);
}
