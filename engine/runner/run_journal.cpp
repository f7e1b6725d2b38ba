#include "engine/runner/run_journal.hpp"

#include "engine/runner/environment.hpp"
#include "engine/runner/observation.hpp"
#include "probes/resource_quantity.hpp"
#include "probes/websocket_load.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>

namespace faultline::engine {

std::string make_run_id() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z-{}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ::getpid());
}

namespace {

// Whether the series is a probe's (or one of a resource probe's quantities) whose type says its
// latencies are the cost of reading a value.
bool latency_is_reading_cost(const experiment& x, const std::string& series) {
  const auto* p = x.find_probe(series);
  if (!p)
    if (auto q = probes::split_quantity_series(series)) p = x.find_probe(q->probe);
  return p && p->latency_is_reading_cost;
}

}  // namespace

reports::journal build_journal(const experiment& x, const run_identity& id, run_facts facts,
                               const probes::timeline* timeline) {
  using std::chrono::nanoseconds;
  reports::journal j;
  j.run_id = id.run_id;
  j.experiment = {x.name, x.file.string(), x.description, x.tags, x.resolved_yaml};
  j.environment = describe_environment();
  j.started_at = id.started_at;
  j.ended_at = iso_time_now();
  j.window = std::chrono::duration<double>(x.settings.window).count();
  for (const auto& f : facts.faults)
    if (!f.engine.empty()) j.environment.engines[f.step] = f.engine;
  facts.window = j.window;
  if (timeline) {
    // Windows up to the end of the last phase: what comes after is only the samplers stopping.
    double last = 0;
    for (const auto& p : facts.phases) last = std::max(last, p.end);
    const auto end = std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(last));
    const auto windows = (end + x.settings.window - nanoseconds(1)) / x.settings.window;
    std::map<std::string, std::string> kinds{{"load", "load"}};
    for (const auto& name : timeline->series_names())
      if (name.starts_with("load.")) kinds[name] = "load";  // a named request of the load
    if (x.websocket_load)
      for (auto name : {probes::websocket_messages_series, probes::websocket_sessions_series}) kinds[std::string(name)] = "websocket";
    for (const auto& p : x.probes) kinds[p.name] = p.type;
    // A resource probe's quantities ("shop.rss") are of the probe's kind.
    for (const auto& name : timeline->series_names())
      if (auto q = probes::split_quantity_series(name))
        if (const auto* p = x.find_probe(q->probe)) kinds[name] = p->type;
    facts.series = series_records(*timeline, kinds, windows);
    for (auto& s : facts.series) s.latency_describes_system = !latency_is_reading_cost(x, s.name);
    facts.phase_stats = phase_stats(*timeline, facts.phases);
    facts.samples = sample_logs(*timeline);
    j.timeline = timeline->to_json();
  }
  j.phases = facts.phases;
  j.faults = facts.faults;
  j.series = facts.series;
  j.analysis = analyse(x, facts);
  j.verdict = decide(facts, j.analysis);
  return j;
}

}  // namespace faultline::engine
