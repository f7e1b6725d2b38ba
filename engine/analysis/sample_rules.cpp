#include "engine/analysis/sample_rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace faultline::engine {
namespace {

double seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

// What the sliding window holds, enough to judge any non-value statistic in constant time.
struct window_counts {
  std::uint64_t n = 0;
  std::uint64_t errors = 0;
  std::uint64_t below = 0;        // latency < threshold
  std::uint64_t at_or_below = 0;  // latency <= threshold
  double latency_sum = 0;         // seconds

  void change(const probes::logged_sample& s, std::int64_t threshold_ns, int sign) {
    const auto d = static_cast<std::uint64_t>(1);
    const auto apply = [&](std::uint64_t& v) { v = sign > 0 ? v + d : v - d; };
    apply(n);
    if (s.failed()) apply(errors);
    if (s.latency.count() < threshold_ns) apply(below);
    if (s.latency.count() <= threshold_ns) apply(at_or_below);
    latency_sum += sign * seconds(s.latency);
  }
};

std::optional<double> percent_of(statistic s) {
  switch (s) {
    case statistic::p50: return 50;
    case statistic::p75: return 75;
    case statistic::p90: return 90;
    case statistic::p95: return 95;
    case statistic::p99: return 99;
    case statistic::p999: return 99.9;
    case statistic::min: return 0;
    case statistic::max: return 100;
    default: return std::nullopt;
  }
}

// The nearest rank, as the histogram takes it (core/histogram.cpp).
std::uint64_t rank_of(double percent, std::uint64_t n) {
  const auto rank = static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(n)));
  return std::clamp<std::uint64_t>(rank, 1, n);
}

std::optional<bool> judge(const rule& r, const window_counts& c, double span) {
  const auto value = [&](double measured) { return compare(measured, r.cmp, r.threshold); };
  const auto n = static_cast<double>(c.n);
  std::optional<bool> result;
  if (auto percent = percent_of(r.stat)) {
    if (c.n == 0) return std::nullopt;
    // The k-th smallest latency compared with the threshold, from how many lie below it.
    const auto k = rank_of(*percent, c.n);
    const bool is_below = c.below >= k, is_at_or_below = c.at_or_below >= k;
    switch (r.cmp) {
      case comparator::less: result = is_below; break;
      case comparator::less_equal: result = is_at_or_below; break;
      case comparator::greater: result = !is_at_or_below; break;
      case comparator::greater_equal: result = !is_below; break;
      case comparator::equal: result = !is_below && is_at_or_below; break;
      case comparator::not_equal: result = !(!is_below && is_at_or_below); break;
    }
  } else {
    switch (r.stat) {
      case statistic::mean:
        if (c.n == 0) return std::nullopt;
        result = value(c.latency_sum / n);
        break;
      case statistic::error_rate:
        if (c.n == 0) return std::nullopt;
        result = value(static_cast<double>(c.errors) / n);
        break;
      case statistic::availability:
        if (c.n == 0) return std::nullopt;
        result = value(1.0 - static_cast<double>(c.errors) / n);
        break;
      case statistic::ok:
        if (c.n == 0) return std::nullopt;
        result = value(c.errors == 0 ? 1.0 : 0.0);
        break;
      case statistic::rps: result = value(n / span); break;
      case statistic::count: result = value(n); break;
      case statistic::errors: result = value(static_cast<double>(c.errors)); break;
      default: return std::nullopt;
    }
  }
  return r.negated ? !*result : *result;
}

void push(std::vector<truth_change>& out, double at, bool holds, double resolution) {
  if (!out.empty() && out.back().holds == holds) return;
  if (!out.empty() && out.back().at == at) {
    out.back().holds = holds;
    out.back().resolution = std::max(out.back().resolution, resolution);
    if (out.size() >= 2 && out[out.size() - 2].holds == holds) out.pop_back();
    return;
  }
  out.push_back({at, holds, resolution});
}

// Samples enter the window at their intended start and leave `span` later. Times are whole
// nanoseconds here, so a sample leaving and another entering at the same moment meet exactly.
std::vector<truth_change> sliding_truth(const rule& r, const probes::sample_log& log, double span) {
  std::vector<truth_change> out{{0, false, 0}};
  const auto n = log.size();
  out.front().holds = judge(r, {}, span).value_or(false);
  const auto threshold_ns = static_cast<std::int64_t>(std::llround(r.threshold * 1e9));
  const auto span_ns = std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(span * 1e9)));
  const auto time = [&](std::size_t i) { return log[i].intended; };
  const auto gap_before = [&](std::size_t i) {
    return seconds(i > 0 ? time(i) - time(i - 1) : (n > 1 ? time(1) - time(0) : std::chrono::nanoseconds(0)));
  };
  const auto gap_after = [&](std::size_t i) { return i + 1 < n ? seconds(time(i + 1) - time(i)) : gap_before(i); };
  window_counts c;
  std::size_t enter = 0, leave = 0;
  while (enter < n || leave < n) {
    const auto t = enter < n ? std::min(time(enter), time(leave) + span_ns) : time(leave) + span_ns;
    double resolution = 0;
    while (leave < n && time(leave) + span_ns <= t) {
      c.change(log[leave], threshold_ns, -1);
      resolution = std::max(resolution, gap_after(leave));
      ++leave;
    }
    while (enter < n && time(enter) <= t) {
      c.change(log[enter], threshold_ns, +1);
      resolution = std::max(resolution, gap_before(enter));
      ++enter;
    }
    push(out, seconds(t), judge(r, c, span).value_or(false), resolution);
  }
  return out;
}

// A probe's value holds from halfway between its sample and the one before, for at most `span`
// after it was read.
std::vector<truth_change> value_truth(const rule& r, const probes::sample_log& log, double span) {
  struct reading {
    double at;
    double value;
  };
  std::vector<reading> readings;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto s = log[i];
    if (s.value) readings.push_back({seconds(s.completed()), *s.value});
  }
  std::stable_sort(readings.begin(), readings.end(), [](const reading& a, const reading& b) { return a.at < b.at; });
  std::vector<truth_change> out{{0, false, 0}};
  const auto judge_value = [&](double v) {
    const bool b = compare(v, r.cmp, r.threshold);
    return r.negated ? !b : b;
  };
  const auto from_of = [&](std::size_t j) {
    if (j == 0) return readings[0].at;
    return std::max((readings[j - 1].at + readings[j].at) / 2, readings[j].at - span);
  };
  const auto gap_before = [&](std::size_t j) { return j > 0 ? readings[j].at - readings[j - 1].at : 0.0; };
  for (std::size_t j = 0; j < readings.size(); ++j) {
    push(out, from_of(j), judge_value(readings[j].value), gap_before(j));
    const bool last = j + 1 == readings.size();
    const double next_from = last ? std::numeric_limits<double>::infinity() : from_of(j + 1);
    const double expires = readings[j].at + span;
    if (expires < next_from) push(out, expires, false, last ? gap_before(j) : gap_before(j + 1));
  }
  return out;
}

}  // namespace

std::vector<truth_change> rule_truth(const rule& r, const probes::sample_log* samples, double span) {
  if (!samples) return {{0, false, 0}};
  if (r.stat == statistic::value) return value_truth(r, *samples, span);
  return sliding_truth(r, *samples, span);
}

std::vector<truth_change> steady_truth(const std::vector<rule>& rules, const series_samples& samples, double span) {
  if (rules.empty()) return {{0, true, 0}};
  std::vector<std::vector<truth_change>> each;
  for (const auto& r : rules) {
    auto it = samples.find(r.series);
    each.push_back(rule_truth(r, it == samples.end() ? nullptr : &it->second, span));
  }
  std::vector<std::size_t> at(each.size(), 0);
  std::vector<truth_change> out;
  while (true) {
    double t = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < each.size(); ++k)
      if (at[k] < each[k].size()) t = std::min(t, each[k][at[k]].at);
    if (!std::isfinite(t)) break;
    double resolution = 0;
    for (std::size_t k = 0; k < each.size(); ++k)
      if (at[k] < each[k].size() && each[k][at[k]].at == t) resolution = std::max(resolution, each[k][at[k]++].resolution);
    bool all = true;
    for (std::size_t k = 0; k < each.size(); ++k) all = all && each[k][at[k] - 1].holds;
    push(out, t, all, resolution);
  }
  return out;
}

bool holds_at(const std::vector<truth_change>& truth, double t) {
  auto it = std::upper_bound(truth.begin(), truth.end(), t, [](double v, const truth_change& c) { return v < c.at; });
  return it != truth.begin() && std::prev(it)->holds;
}

}  // namespace faultline::engine
