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

std::optional<measured_time> mttd(const std::vector<truth_change>& steady, double fault_start, double until) {
  if (!holds_at(steady, fault_start)) return measured_time{0, 0};
  for (const auto& c : steady) {
    if (c.at <= fault_start || c.holds) continue;
    if (c.at >= until) break;
    return measured_time{c.at - fault_start, c.resolution};
  }
  return std::nullopt;
}

std::optional<measured_time> mttr(const std::vector<truth_change>& steady, double last_revert, double stable_for,
                                  double timeout, double data_end) {
  constexpr double slack = 1e-9;
  for (std::size_t i = 0; i < steady.size(); ++i) {
    if (!steady[i].holds) continue;
    const double end = std::min(i + 1 < steady.size() ? steady[i + 1].at : data_end, data_end);
    if (end <= last_revert) continue;
    const bool under_way = steady[i].at <= last_revert;
    const double start = under_way ? last_revert : steady[i].at;
    if (start - last_revert > timeout + slack) return std::nullopt;
    if (end - start + slack >= stable_for) return measured_time{start - last_revert, under_way ? 0 : steady[i].resolution};
  }
  return std::nullopt;
}

}  // namespace faultline::engine
