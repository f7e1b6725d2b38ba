#include "reports/run_summary.hpp"

#include <algorithm>

namespace faultline::reports {

std::string result_title(std::string_view result) {
  if (result == "passed") return "Passed";
  if (result == "failed") return "Failed";
  if (result == "aborted") return "Aborted";
  if (result == "not_steady") return "Not steady";
  if (result == "error") return "Error";
  return std::string(result);
}

double run_duration(const journal& j) {
  double end = 0;
  for (const auto& p : j.phases) end = std::max(end, p.end);
  for (const auto& s : j.series)
    if (!s.windows.empty()) end = std::max(end, s.windows.back().start + j.window);
  for (const auto& f : j.faults) {
    if (f.injected_at) end = std::max(end, *f.injected_at);
    if (f.reverted_at) end = std::max(end, *f.reverted_at);
  }
  return end;
}

const phase_span* find_phase(const journal& j, std::string_view name) {
  for (const auto& p : j.phases)
    if (p.name == name) return &p;
  return nullptr;
}

const phase_stat* find_phase_stat(const journal& j, std::string_view series, std::string_view phase) {
  for (const auto& s : j.analysis.phase_stats)
    if (s.series == series && s.phase == phase) return &s;
  return nullptr;
}

bool latency_describes_system(const journal& j, std::string_view series) {
  for (const auto& s : j.series)
    if (s.name == series) {
      if (s.latency_describes_system) return *s.latency_describes_system;
      // A journal written before the series said so: the probe types read for a value then.
      return s.kind != "metric" && s.kind != "process" && s.kind != "cgroup";
    }
  return true;
}

const series_record* primary_series(const journal& j) {
  for (const auto& s : j.series)
    if (s.kind == "load") return &s;
  for (const auto& s : j.series)
    for (const auto& w : s.windows)
      if (w.p50) return &s;
  return j.series.empty() ? nullptr : &j.series.front();
}

std::vector<std::string> ordered_phase_names(const journal& j) {
  std::vector<std::string> names;
  auto add = [&](std::string_view n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.emplace_back(n);
  };
  auto known = [&](std::string_view n) {
    for (const auto& p : j.phases)
      if (p.name == n) return true;
    for (const auto& s : j.analysis.phase_stats)
      if (s.phase == n) return true;
    return false;
  };
  for (auto n : phase_order)
    if (known(n)) add(n);
  for (const auto& p : j.phases) add(p.name);
  for (const auto& s : j.analysis.phase_stats) add(s.phase);
  return names;
}

run_summary summarize(const journal& j) {
  run_summary out;
  out.experiment = j.experiment.name;
  out.result = j.verdict.result;
  out.result_title = result_title(j.verdict.result);
  out.reason = j.verdict.reason;
  out.score = j.analysis.score;
  out.sla_tier = j.analysis.sla_tier;
  out.duration = run_duration(j);
  out.expectations = j.analysis.expectations.size();
  out.expectations_met = static_cast<std::size_t>(
      std::count_if(j.analysis.expectations.begin(), j.analysis.expectations.end(), [](const auto& e) { return e.met; }));
  out.mttd = j.analysis.mttd;
  out.mttr = j.analysis.mttr;
  out.mttd_resolution = j.analysis.mttd_resolution;
  out.mttr_resolution = j.analysis.mttr_resolution;
  out.recovered = j.analysis.recovered;
  if (j.analysis.breaker) {
    out.breaker_seen = true;
    out.breaker_opened = j.analysis.breaker->time_to_open;
    out.breaker_closed = j.analysis.breaker->time_to_close;
    out.breaker_opened_resolution = j.analysis.breaker->time_to_open_resolution;
    out.breaker_closed_resolution = j.analysis.breaker->time_to_close_resolution;
    out.breaker_flaps = j.analysis.breaker->flaps;
  }
  for (const auto& phase : ordered_phase_names(j)) {
    phase_extremes e;
    e.phase = phase;
    bool any = false;
    for (const auto& s : j.analysis.phase_stats) {
      if (s.phase != phase) continue;
      any = true;
      if (s.p99 && (!e.worst_p99 || *s.p99 > *e.worst_p99)) {
        e.worst_p99 = s.p99;
        e.worst_p99_series = s.series;
      }
      if (e.worst_error_rate_series.empty() || s.error_rate > e.worst_error_rate) {
        e.worst_error_rate = s.error_rate;
        e.worst_error_rate_series = s.series;
      }
    }
    if (any) out.phases.push_back(std::move(e));
  }
  return out;
}

}  // namespace faultline::reports
