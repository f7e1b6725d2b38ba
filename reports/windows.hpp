#pragma once
// The journal's per-window view of a Timeline: each series' windows as window_points (counts,
// outcomes, latency percentiles in seconds, last value). The engine builds the journal's `series`
// with it and the journal reader derives them from the stored Timeline with it, so both agree.

#include "probes/timeline.hpp"
#include "reports/journal.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::reports {

// Latency statistics in seconds from a histogram; left absent when it is empty.
template <typename Histogram, typename Target>
void fill_latency(const Histogram& h, Target& out) {
  if (h.empty()) return;
  auto seconds = [](std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); };
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

window_point to_point(const probes::window& w, double window_seconds);

// Windows [0, `count`) of one series (missing windows are empty points).
std::vector<window_point> series_windows(const probes::timeline& t, std::string_view name, std::int64_t count);

// Every series, windows [0, `windows`) each. `kinds` names each series' kind ("load", or the
// probe type; "probe" when it does not say).
std::vector<series_record> series_records(const probes::timeline& t, const std::map<std::string, std::string>& kinds,
                                          std::int64_t windows);

}  // namespace faultline::reports
