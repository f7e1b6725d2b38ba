#include "reports/margins.hpp"

#include "reports/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace faultline::reports {

namespace {

// Met and missed both lie within the interval: it reaches the boundary from both sides.
bool spans_boundary(const margin_record& m) { return m.low && m.high && *m.low <= 0 && *m.high >= 0 && *m.low < *m.high; }

double mean_of(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace

margin_record make_margin(std::string quantity, std::string unit, double measured, double boundary, bound_kind kind,
                          std::optional<stats::interval> measured_interval, std::string basis) {
  margin_record m;
  m.quantity = std::move(quantity);
  m.unit = std::move(unit);
  m.boundary = boundary;
  m.margin = kind == bound_kind::at_most ? boundary - measured : measured - boundary;
  if (measured_interval && !std::isnan(measured_interval->low) && !std::isnan(measured_interval->high)) {
    // The measured value's low end is the margin's high end when the value must stay below.
    double a = kind == bound_kind::at_most ? boundary - measured_interval->high : measured_interval->low - boundary;
    double b = kind == bound_kind::at_most ? boundary - measured_interval->low : measured_interval->high - boundary;
    m.low = std::min({a, b, m.margin});
    m.high = std::max({a, b, m.margin});
    m.basis = std::move(basis);
  }
  m.borderline = spans_boundary(m);
  return m;
}

margin_record margin_across_runs(const std::vector<margin_record>& per_run, const stats::bootstrap_options& options) {
  margin_record m = per_run.front();
  std::vector<double> values;
  for (const auto& r : per_run) values.push_back(r.margin);
  m.margin = stats::median(values);
  m.low.reset();
  m.high.reset();
  m.basis.clear();
  if (values.size() >= 2) {
    auto i = stats::bootstrap(values, [](std::span<const double> v) { return stats::median(v); }, options);
    m.low = i.low;
    m.high = i.high;
    m.basis = "runs";
  }
  m.borderline = spans_boundary(m);
  return m;
}

std::vector<double> window_values(const std::vector<series_record>& series, const std::string& name, const phase_span& phase,
                                  const std::function<std::optional<double>(const window_point&)>& pick) {
  std::vector<double> out;
  for (const auto& s : series) {
    if (s.name != name) continue;
    for (const auto& w : s.windows) {
      if (w.start < phase.start || w.start >= phase.end || w.count == 0) continue;
      if (auto v = pick(w)) out.push_back(*v);
    }
  }
  return out;
}

stats::interval spread_of_mean(double figure, std::span<const double> windows, const stats::bootstrap_options& options) {
  if (windows.size() < 2) return {figure, figure};
  double centre = mean_of(windows);
  auto i = stats::bootstrap(windows, [](std::span<const double> v) { return mean_of(v); }, options);
  return {figure + i.low - centre, figure + i.high - centre};
}

stats::interval spread_of_quantile(double figure, std::span<const double> windows, const stats::bootstrap_options& options) {
  if (windows.size() < 2) return {figure, figure};
  double centre = stats::median(windows);
  if (!(centre > 0)) return {figure, figure};
  auto i = stats::bootstrap(windows, [centre](std::span<const double> v) { return stats::median(v) / centre; }, options);
  return {figure * i.low, figure * i.high};
}

std::string tier_at(const std::vector<tier_bound>& tiers, double availability, double p95) {
  for (auto it = tiers.rbegin(); it != tiers.rend(); ++it)
    if (availability >= it->availability && p95 <= it->p95) return it->name;
  return "none";
}

tier_range tier_range_between(const std::vector<tier_bound>& tiers, stats::interval availability, stats::interval p95) {
  tier_range r;
  r.low = tier_at(tiers, availability.low, p95.high);
  r.high = tier_at(tiers, availability.high, p95.low);
  return r;
}

std::string format_margin_value(const std::string& unit, double v) {
  if (std::isnan(v)) return "?";
  const char* sign = v >= 0 ? "+" : "-";
  double a = std::fabs(v);
  if (unit == "seconds") return sign + format_seconds(a);
  if (unit == "fraction") return fmt::format("{}{} pp", sign, format_number(a * 100, a * 100 < 0.1 ? 3 : 2));
  if (unit == "per_second") return sign + format_measured_rate(a);
  if (unit == "bytes") return sign + (a >= 1048576 ? format_number(a / 1048576, 1) + "MiB" : format_number(a / 1024, 1) + "KiB");
  if (unit == "score") return sign + format_score(a);
  return sign + format_number(a, 2);
}

std::string format_margin(const margin_record& m) {
  std::string out = format_margin_value(m.unit, m.margin);
  if (m.low && m.high) out += fmt::format(" [{}, {}]", format_margin_value(m.unit, *m.low), format_margin_value(m.unit, *m.high));
  if (m.borderline) out += " borderline";
  return out;
}

std::string margin_basis_text(const std::string& basis) {
  if (basis == "windows") return "bootstrap over the phase's windows";
  if (basis == "resolution") return "the time's resolution";
  if (basis == "search") return "between the last rate that held and the first that broke";
  if (basis == "runs") return "bootstrap of the median across runs";
  return "no interval: nothing to measure its spread by";
}

std::string render_margins_text(const std::vector<expectation_record>& expectations) {
  std::size_t name_width = 0, quantity_width = 0;
  for (const auto& e : expectations)
    for (const auto& m : e.margins) {
      name_width = std::max(name_width, e.name.size());
      quantity_width = std::max(quantity_width, m.quantity.size());
    }
  if (name_width == 0) return "";
  std::string out = "  margins to the targets (95 % interval; borderline: the interval spans the target)\n";
  for (const auto& e : expectations)
    for (const auto& m : e.margins)
      out += fmt::format("    {:<{}}  {:<{}}  {}\n", e.name, name_width, m.quantity, quantity_width, format_margin(m));
  return out;
}

}  // namespace faultline::reports
