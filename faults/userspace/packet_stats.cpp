#include "faults/userspace/packet_stats.hpp"

#include <chrono>
#include <cmath>

namespace faultline::faults::userspace {
namespace {

double ms(std::chrono::nanoseconds d) { return std::round(static_cast<double>(d.count()) / 1e3) / 1e3; }

nlohmann::json summary(const histogram& h) {
  nlohmann::json j{{"count", h.count()}};
  if (h.empty()) return j;
  j["max_ms"] = ms(h.max());
  j["mean_ms"] = ms(h.mean());
  j["min_ms"] = ms(h.min());
  j["p50_ms"] = ms(h.percentile(50));
  j["p90_ms"] = ms(h.percentile(90));
  j["p99_ms"] = ms(h.percentile(99));
  return j;
}

}  // namespace

nlohmann::json packet_stats::to_json() const {
  const auto& c = counters;
  return {
      {"applied_delay", summary(applied_delay)},
      {"bytes_seen_total", c.bytes_seen_total},
      {"copies_failed_total", c.copies_failed_total},
      {"held_peak", c.held_peak},
      {"lateness", summary(lateness)},
      {"packets_corrupted_total", c.packets_corrupted_total},
      {"packets_delayed_total", c.packets_delayed_total},
      {"packets_dropped_total", c.packets_dropped_total},
      {"packets_duplicated_total", c.packets_duplicated_total},
      {"packets_over_limit_total", c.packets_over_limit_total},
      {"packets_released_total", c.packets_released_total},
      {"packets_reordered_total", c.packets_reordered_total},
      {"packets_seen_total", c.packets_seen_total},
      {"receive_overruns_total", c.receive_overruns_total},
      {"verdict_datagrams_total", c.verdict_datagrams_total},
      {"verdict_errors_total", c.verdict_errors_total},
  };
}

}  // namespace faultline::faults::userspace
