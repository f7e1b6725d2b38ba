#include "engine/runner/observation.hpp"

#include <chrono>
#include <cmath>

namespace faultline::engine {
namespace {

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

template <typename Histogram, typename Target>
void fill_latency(const Histogram& h, Target& out) {
  if (h.empty()) return;
  out.min = seconds(h.min());
  out.mean = seconds(h.mean());
  out.p50 = seconds(h.percentile(50));
  out.p75 = seconds(h.percentile(75));
  out.p90 = seconds(h.percentile(90));
  out.p95 = seconds(h.percentile(95));
  out.p99 = seconds(h.percentile(99));
  out.p999 = seconds(h.percentile(99.9));
  out.max = seconds(h.max());
}

std::chrono::nanoseconds from_seconds(double s) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(s * 1e9)));
}

}  // namespace

reports::window_point to_point(const probes::window& w, double window_seconds) {
  reports::window_point p;
  p.start = static_cast<double>(w.index) * window_seconds;
  p.count = w.total();
  p.errors = w.errors();
  for (std::size_t i = 0; i < probes::outcome_count; ++i)
    if (w.outcomes[i]) p.outcomes[std::string(probes::to_string(static_cast<probes::outcome>(i)))] = w.outcomes[i];
  p.fast_failures = w.fast_errors;
  fill_latency(w.latency, p);
  if (w.value.count) p.value = w.value.last;
  return p;
}

std::vector<reports::series_record> series_records(const probes::timeline& t,
                                                   const std::map<std::string, std::string>& kinds,
                                                   std::int64_t windows) {
  const double width = seconds(t.options().window);
  std::vector<reports::series_record> out;
  for (const auto& name : t.series_names()) {
    reports::series_record r;
    r.name = name;
    auto kind = kinds.find(name);
    r.kind = kind == kinds.end() ? std::string("probe") : kind->second;
    auto recorded = t.windows(name);
    for (std::int64_t i = 0; i < windows; ++i) {
      if (i < static_cast<std::int64_t>(recorded.size())) {
        r.windows.push_back(to_point(recorded[static_cast<std::size_t>(i)], width));
      } else {
        reports::window_point empty;
        empty.start = static_cast<double>(i) * width;
        r.windows.push_back(empty);
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::map<std::string, probes::sample_log, std::less<>> sample_logs(const probes::timeline& t) {
  std::map<std::string, probes::sample_log, std::less<>> out;
  for (const auto& name : t.series_names()) out.emplace(name, t.samples(name));
  return out;
}

std::vector<reports::phase_stat> phase_stats(const probes::timeline& t, const std::vector<reports::phase_span>& phases) {
  std::vector<reports::phase_stat> out;
  for (const auto& name : t.series_names()) {
    for (const auto& phase : phases) {
      if (phase.end <= phase.start) continue;
      auto stats = t.stats(name, probes::time_range{from_seconds(phase.start), from_seconds(phase.end)});
      reports::phase_stat s;
      s.series = name;
      s.phase = phase.name;
      s.count = stats.total();
      s.errors = stats.errors();
      s.error_rate = stats.error_rate();
      s.availability = s.count ? 1.0 - s.error_rate : 1.0;
      s.rps = static_cast<double>(s.count) / (phase.end - phase.start);
      fill_latency(stats.latency, s);
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace faultline::engine
