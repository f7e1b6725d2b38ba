#include "engine/analysis/rule_eval.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace faultline::engine {

std::optional<double> measure(statistic stat, const reports::window_point& w, double window_seconds) {
  const bool any = w.count > 0;
  switch (stat) {
    case statistic::p50: return w.p50;
    case statistic::p75: return w.p75;
    case statistic::p90: return w.p90;
    case statistic::p95: return w.p95;
    case statistic::p99: return w.p99;
    case statistic::p999: return w.p999;
    case statistic::max: return w.max;
    case statistic::min: return w.min;
    case statistic::mean: return w.mean;
    case statistic::error_rate:
      return any ? std::optional<double>(static_cast<double>(w.errors) / static_cast<double>(w.count)) : std::nullopt;
    case statistic::availability:
      return any ? std::optional<double>(1.0 - static_cast<double>(w.errors) / static_cast<double>(w.count)) : std::nullopt;
    case statistic::rps: return static_cast<double>(w.count) / window_seconds;
    case statistic::count: return static_cast<double>(w.count);
    case statistic::errors: return static_cast<double>(w.errors);
    case statistic::value: return w.value;
    case statistic::ok: return any ? std::optional<double>(w.errors == 0 ? 1.0 : 0.0) : std::nullopt;
  }
  return std::nullopt;
}

std::optional<double> measure(statistic stat, const reports::phase_stat& p) {
  const bool any = p.count > 0;
  switch (stat) {
    case statistic::p50: return p.p50;
    case statistic::p75: return p.p75;
    case statistic::p90: return p.p90;
    case statistic::p95: return p.p95;
    case statistic::p99: return p.p99;
    case statistic::p999: return p.p999;
    case statistic::max: return p.max;
    case statistic::min: return p.min;
    case statistic::mean: return p.mean;
    case statistic::error_rate: return any ? std::optional<double>(p.error_rate) : std::nullopt;
    case statistic::availability: return any ? std::optional<double>(p.availability) : std::nullopt;
    case statistic::rps: return p.rps;
    case statistic::count: return static_cast<double>(p.count);
    case statistic::errors: return static_cast<double>(p.errors);
    case statistic::value: return std::nullopt;
    case statistic::ok: return any ? std::optional<double>(p.errors == 0 ? 1.0 : 0.0) : std::nullopt;
  }
  return std::nullopt;
}

namespace {
std::optional<bool> judge(const rule& r, std::optional<double> measured) {
  if (!measured) return std::nullopt;
  bool result = compare(*measured, r.cmp, r.threshold);
  return r.negated ? !result : result;
}
}  // namespace

std::optional<bool> holds(const rule& r, const reports::window_point& w, double window_seconds) {
  return judge(r, measure(r.stat, w, window_seconds));
}

std::optional<bool> holds_over_phase(const rule& r, const reports::phase_stat& p,
                                     const std::vector<const reports::window_point*>& windows, double window_seconds) {
  if (r.stat != statistic::value) return judge(r, measure(r.stat, p));
  std::optional<bool> all;
  for (const auto* w : windows) {
    auto h = holds(r, *w, window_seconds);
    if (!h) continue;
    if (!*h) return false;
    all = true;
  }
  return all;
}

bool holds_sustained(const rule& r, const std::vector<reports::window_point>& windows, std::size_t index,
                     double window_seconds) {
  std::size_t needed = 1;
  if (r.sustained) {
    const double seconds = std::chrono::duration<double>(*r.sustained).count();
    needed = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(seconds / window_seconds - 1e-9)));
  }
  if (index + 1 < needed || index >= windows.size()) return false;
  for (std::size_t i = index + 1 - needed; i <= index; ++i)
    if (holds(r, windows[i], window_seconds) != true) return false;
  return true;
}

}  // namespace faultline::engine
