#include "engine/analysis/recovery_times.hpp"

#include "engine/analysis/rule_eval.hpp"

#include <algorithm>
#include <cmath>

namespace faultline::engine {
namespace {

const reports::window_point* window_at(const series_windows& series, const std::string& name, std::size_t index) {
  auto it = series.find(name);
  if (it == series.end() || index >= it->second.size()) return nullptr;
  return &it->second[index];
}

}  // namespace

std::size_t window_count(const series_windows& series) {
  std::size_t n = 0;
  for (const auto& [name, windows] : series) n = std::max(n, windows.size());
  return n;
}

std::optional<std::string> first_broken_rule(const std::vector<rule>& rules, const series_windows& series,
                                             std::size_t index, double window_seconds) {
  for (const auto& r : rules) {
    const auto* w = window_at(series, r.series, index);
    if (!w || holds(r, *w, window_seconds) != true) return r.text;
  }
  return std::nullopt;
}

bool window_steady(const std::vector<rule>& rules, const series_windows& series, std::size_t index,
                   double window_seconds) {
  return !first_broken_rule(rules, series, index, window_seconds);
}

std::optional<double> mttd(const std::vector<rule>& rules, const series_windows& series, double window_seconds,
                           double fault_start, double until) {
  const auto n = window_count(series);
  auto first = static_cast<std::size_t>(std::max(0.0, std::floor(fault_start / window_seconds + 1e-9)));
  for (std::size_t i = first; i < n && static_cast<double>(i) * window_seconds < until; ++i)
    if (!window_steady(rules, series, i, window_seconds))
      return std::max(0.0, static_cast<double>(i) * window_seconds - fault_start);
  return std::nullopt;
}

std::optional<double> mttr(const std::vector<rule>& rules, const series_windows& series, double window_seconds,
                           double last_revert, std::size_t stable_windows, double timeout) {
  const auto n = window_count(series);
  stable_windows = std::max<std::size_t>(1, stable_windows);
  const double earliest = last_revert - window_seconds / 4;
  auto first = static_cast<std::size_t>(std::max(0.0, std::ceil(earliest / window_seconds - 1e-9)));
  std::size_t run = 0;
  for (std::size_t i = first; i < n; ++i) {
    if (!window_steady(rules, series, i, window_seconds)) {
      run = 0;
      continue;
    }
    if (++run < stable_windows) continue;
    const double start = static_cast<double>(i + 1 - stable_windows) * window_seconds;
    if (start - last_revert > timeout) return std::nullopt;
    return std::max(0.0, start - last_revert);
  }
  return std::nullopt;
}

}  // namespace faultline::engine
