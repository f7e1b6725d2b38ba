#include "engine/runner/observation.hpp"

#include <chrono>
#include <cmath>

namespace faultline::engine {
namespace {

std::chrono::nanoseconds from_seconds(double s) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(s * 1e9)));
}

}  // namespace

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
      reports::fill_latency(stats.latency, s);
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace faultline::engine
