#include "reports/windows.hpp"

namespace faultline::reports {

window_point to_point(const probes::window& w, double window_seconds) {
  window_point p;
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

std::vector<window_point> series_windows(const probes::timeline& t, std::string_view name, std::int64_t count) {
  const double width = std::chrono::duration<double>(t.options().window).count();
  const auto recorded = t.windows(name);
  std::vector<window_point> out;
  for (std::int64_t i = 0; i < count; ++i) {
    if (i < static_cast<std::int64_t>(recorded.size())) {
      out.push_back(to_point(recorded[static_cast<std::size_t>(i)], width));
    } else {
      window_point empty;
      empty.start = static_cast<double>(i) * width;
      out.push_back(empty);
    }
  }
  return out;
}

std::vector<series_record> series_records(const probes::timeline& t, const std::map<std::string, std::string>& kinds,
                                          std::int64_t windows) {
  std::vector<series_record> out;
  for (const auto& name : t.series_names()) {
    auto kind = kinds.find(name);
    out.push_back({name, kind == kinds.end() ? std::string("probe") : kind->second, series_windows(t, name, windows)});
  }
  return out;
}

}  // namespace faultline::reports
