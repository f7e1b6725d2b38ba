#include "reports/run_sets.hpp"

#include "reports/format.hpp"
#include "reports/run_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

namespace faultline::reports {

std::size_t set_diff::regressions() const {
  return static_cast<std::size_t>(
      std::count_if(changes.begin(), changes.end(), [](const auto& c) { return c.kind == change_kind::regression; }));
}

namespace {

using values = std::vector<double>;

// One figure of a run: its value, and (where windows have one) its per-window values in a phase.
struct figure {
  std::string metric;
  bool relative = true;         // changes shown and judged as ratios (else as differences)
  bool higher_is_worse = true;
  std::function<std::optional<double>(const journal&)> value;
  std::function<values(const journal&)> windows;  // empty function: no per-window values
  std::function<bool(double before, double after)> beyond;  // a worse change beyond its threshold
};

values window_values(const journal& j, const std::string& series, const std::string& phase,
                     const std::function<std::optional<double>(const window_point&)>& pick) {
  const auto* span = find_phase(j, phase);
  return span ? reports::window_values(j.series, series, *span, pick) : values{};
}

std::vector<figure> figures_of(const journal& sample, const diff_thresholds& limits) {
  std::vector<figure> out;
  out.push_back({"score", false, false, [](const journal& j) -> std::optional<double> { return j.analysis.score; }, {},
                 [&limits](double b, double a) { return b - a > limits.max_score_drop; }});
  out.push_back({"mttr", true, true, [](const journal& j) { return j.analysis.mttr; }, {},
                 [&limits, w = sample.window](double b, double a) {
                   double allowed = limits.max_mttr_increase ? *limits.max_mttr_increase : std::max(b * limits.max_mttr_increase_ratio, w);
                   return a - b > allowed;
                 }});
  auto breaker_time = [&](const char* metric, std::optional<double> breaker_record::*time) {
    out.push_back({metric, true, true,
                   [=](const journal& j) { return j.analysis.breaker ? (*j.analysis.breaker).*time : std::nullopt; }, {},
                   [&limits](double b, double a) {
                     return a - b > std::max(b * limits.max_breaker_time_increase_ratio, limits.min_breaker_time_increase);
                   }});
  };
  breaker_time("breaker time_to_open", &breaker_record::time_to_open);
  breaker_time("breaker time_to_close", &breaker_record::time_to_close);
  out.push_back({"breaker flaps", false, true,
                 [](const journal& j) -> std::optional<double> {
                   return j.analysis.breaker ? std::optional<double>(static_cast<double>(j.analysis.breaker->flaps)) : std::nullopt;
                 },
                 {}, [&limits](double b, double a) { return a - b > limits.max_flaps_increase; }});
  std::vector<std::string> series;
  for (const auto& s : sample.analysis.phase_stats)
    if (std::find(series.begin(), series.end(), s.series) == series.end()) series.push_back(s.series);
  for (const auto& name : series) {
    for (const auto& phase : ordered_phase_names(sample)) {
      if (!find_phase_stat(sample, name, phase)) continue;
      auto latency = [&](const char* label, std::optional<double> phase_stat::*stat, std::optional<double> window_point::*window) {
        out.push_back({fmt::format("{} {}/{}", label, name, phase), true, true,
                       [=](const journal& j) -> std::optional<double> {
                         const auto* s = find_phase_stat(j, name, phase);
                         return s ? s->*stat : std::nullopt;
                       },
                       [=](const journal& j) { return window_values(j, name, phase, [=](const window_point& w) { return w.*window; }); },
                       [&limits](double b, double a) { return a - b > b * limits.max_p99_increase_ratio && a - b > limits.min_p99_increase; }});
      };
      if (latency_describes_system(sample, name)) {
        latency("p95", &phase_stat::p95, &window_point::p95);
        latency("p99", &phase_stat::p99, &window_point::p99);
      }
      out.push_back({fmt::format("error_rate {}/{}", name, phase), false, true,
                     [=](const journal& j) -> std::optional<double> {
                       const auto* s = find_phase_stat(j, name, phase);
                       return s ? std::optional<double>(s->error_rate) : std::nullopt;
                     },
                     [=](const journal& j) {
                       return window_values(j, name, phase, [](const window_point& w) -> std::optional<double> {
                         return static_cast<double>(w.errors) / static_cast<double>(w.count);
                       });
                     },
                     [&limits](double b, double a) { return a - b > limits.max_error_rate_increase; }});
    }
  }
  return out;
}

// Window-level changes: latencies as the ratio of the median windows, error rates as the
// difference of the mean windows (the load's windows carry about the same number of requests).
using two_sample_change = stats::two_sample_statistic;
double relative_median_change(std::span<const double> x, std::span<const double> y) {
  double m = stats::median(x);
  return m > 0 ? stats::median(y) / m - 1 : std::nan("");
}
double mean_difference(std::span<const double> x, std::span<const double> y) {
  double sx = 0, sy = 0;
  for (double v : x) sx += v;
  for (double v : y) sy += v;
  return sy / static_cast<double>(y.size()) - sx / static_cast<double>(x.size());
}

double change_of(bool relative, double before, double after) {
  return relative ? (before != 0 ? after / before - 1 : std::nan("")) : after - before;
}

std::string signed_text(bool relative, const std::string& metric, double v) {
  if (std::isnan(v)) return "?";
  const char* sign = v >= 0 ? "+" : "-";
  if (relative) return fmt::format("{}{} %", sign, format_number(std::fabs(v) * 100, 0));
  if (metric.rfind("error_rate", 0) == 0) return fmt::format("{}{} pp", sign, format_number(std::fabs(v) * 100, 2));
  return fmt::format("{}{}", sign, format_number(std::fabs(v), 1));
}

std::string p_text(double p) {
  if (p < 0.001) return "p < 0.001";
  return fmt::format("p = {}", format_number(p, p < 0.1 ? 3 : 2));
}

int tier_rank(const std::vector<tier_bound>& tiers, const std::string& name) {
  for (std::size_t i = 0; i < tiers.size(); ++i)
    if (tiers[i].name == name) return static_cast<int>(i) + 1;
  return 0;
}

void judge(figure_change& c, bool higher_is_worse, bool beyond, bool bounded_worse, const std::string& unbounded_note) {
  double v = *c.change;
  bool worse = higher_is_worse ? v > 0 : v < 0;
  if (!worse) {
    c.kind = v == 0 ? change_kind::unchanged : change_kind::improved;
    return;
  }
  if (beyond && bounded_worse) c.kind = change_kind::regression;
  else {
    c.kind = change_kind::worse;
    if (beyond) c.note = unbounded_note;
  }
}

// The service's breaker retry period as a run saw it: its shortest stretch open before it tried
// again (half_open). Nothing when the run saw no such stretch.
std::optional<double> breaker_retry_period(const journal& j) {
  if (!j.analysis.breaker) return std::nullopt;
  std::optional<double> shortest;
  double opened_at = 0;
  bool open = false;
  for (const auto& t : j.analysis.breaker->transitions) {
    if (t.to == "open") {
      opened_at = t.at;
      open = true;
    } else if (open && t.from == "open" && t.to == "half_open") {
      const double stretch = t.at - opened_at;
      shortest = shortest ? std::min(*shortest, stretch) : stretch;
      open = false;
    }
  }
  return shortest;
}

// The margins of each threshold expectation and quantity, per run, on one side.
using margin_key = std::pair<std::string, std::string>;  // expectation, quantity
std::map<margin_key, std::vector<margin_record>> margins_of(const std::vector<journal>& runs, std::vector<margin_key>* order) {
  std::map<margin_key, std::vector<margin_record>> out;
  for (const auto& j : runs)
    for (const auto& e : j.analysis.expectations)
      for (const auto& m : e.margins) {
        margin_key key{e.name, m.quantity};
        if (order && !out.count(key)) order->push_back(key);
        out[key].push_back(m);
      }
  return out;
}

values margin_values(const std::vector<margin_record>& margins) {
  values out;
  for (const auto& m : margins) out.push_back(m.margin);
  return out;
}

// Margin rows: a threshold expectation is a regression only when its margin fell significantly,
// from met across the old runs to missed across the new ones, and neither side is borderline
// (its interval across runs spans the target). The verdict's regression, when every expectation
// it failed on is borderline, is not one either.
void add_margin_changes(const std::vector<journal>& before, const std::vector<journal>& after, const set_options& options, set_diff& out) {
  std::vector<margin_key> order;
  auto old_margins = margins_of(before, nullptr);
  auto new_margins = margins_of(after, &order);
  std::set<std::string> borderline, regressed;
  for (const auto& key : order) {
    auto it = old_margins.find(key);
    if (it == old_margins.end()) continue;
    auto b = margin_values(it->second), a = margin_values(new_margins[key]);
    const auto old_side = margin_across_runs(it->second, options.bootstrap), new_side = margin_across_runs(new_margins[key], options.bootstrap);
    figure_change c;
    c.metric = key.first == key.second ? "margin " + key.first : "margin " + key.first + " " + key.second;
    c.relative = false;
    c.unit = new_side.unit;
    c.before = old_side.margin;
    c.after = new_side.margin;
    c.change = *c.after - *c.before;
    c.interval = stats::bootstrap(b, a, [](std::span<const double> x, std::span<const double> y) { return stats::median(y) - stats::median(x); },
                                  options.bootstrap);
    c.p = stats::mann_whitney_u(b, a).p;
    const bool crossed = old_side.margin >= 0 && new_side.margin < 0;
    const bool is_borderline = old_side.borderline || new_side.borderline;
    const bool significant = *c.p < options.alpha;
    if (*c.change > 0) c.kind = change_kind::improved;
    else if (*c.change == 0) c.kind = change_kind::unchanged;
    else if (crossed && significant && !is_borderline && !options.limits.allow_new_failures) c.kind = change_kind::regression;
    else {
      c.kind = change_kind::worse;
      if (crossed && is_borderline)
        c.note = fmt::format("borderline: the margin's interval across runs spans the target ({} -> {})", format_margin(old_side),
                             format_margin(new_side));
      else if (crossed && !significant)
        c.note = fmt::format("crosses the target but not significantly ({})", p_text(*c.p));
    }
    if (is_borderline && c.kind != change_kind::regression) borderline.insert(key.first);
    if (c.kind == change_kind::regression) regressed.insert(key.first);
    c.shown = fmt::format("{} {} [{}, {}], {}", c.metric, format_margin_value(c.unit, *c.change), format_margin_value(c.unit, c.interval->low),
                          format_margin_value(c.unit, c.interval->high), p_text(*c.p));
    out.changes.push_back(std::move(c));
  }
  // The verdict: always passing before, never after, on expectations that are all borderline.
  for (auto& c : out.changes) {
    if (c.metric != "verdict" || c.kind != change_kind::regression) continue;
    bool all_borderline = true, any = false;
    for (const auto& j : after)
      for (const auto& e : j.analysis.expectations) {
        if (e.met) continue;
        any = true;
        if (!borderline.count(e.name) || regressed.count(e.name)) all_borderline = false;
      }
    if (any && all_borderline) {
      c.kind = change_kind::worse;
      c.note = "borderline: every expectation the new runs missed is within the noise across runs";
    }
  }
}

}  // namespace

tier_range tier_range_of(const std::vector<journal>& runs, const set_options& options) {
  if (options.tiers.empty() || runs.empty()) return {};
  values availability, p95;
  for (const auto& j : runs)
    if (const auto* s = find_phase_stat(j, "load", "fault"); s && s->count > 0 && s->p95) {
      availability.push_back(s->availability);
      p95.push_back(*s->p95);
    }
  if (availability.empty()) return {};
  stats::interval a, l;
  if (availability.size() >= 2) {
    auto median = [](std::span<const double> v) { return stats::median(v); };
    a = stats::bootstrap(availability, median, options.bootstrap);
    l = stats::bootstrap(p95, median, options.bootstrap);
  } else {
    // One run: its figures moved by the spread of its windows.
    const auto& j = runs.front();
    a = spread_of_mean(availability[0], window_values(j, "load", "fault", [](const window_point& w) -> std::optional<double> {
                         return 1 - static_cast<double>(w.errors) / static_cast<double>(w.count);
                       }), options.bootstrap);
    a = {std::clamp(a.low, 0.0, 1.0), std::clamp(a.high, 0.0, 1.0)};
    l = spread_of_quantile(p95[0], window_values(j, "load", "fault", [](const window_point& w) { return w.p95; }), options.bootstrap);
  }
  return tier_range_between(options.tiers, a, l);
}

set_diff compare_sets(const std::vector<journal>& before, const std::vector<journal>& after, const set_options& options) {
  set_diff out;
  out.runs_before = before.size();
  out.runs_after = after.size();
  if (before.empty() || after.empty()) return out;
  out.experiment = after.front().experiment.name;
  for (const auto& j : before)
    for (const auto& k : after)
      if (j.experiment.name != k.experiment.name && out.mismatch.empty())
        out.mismatch = fmt::format("the journals are of different experiments: '{}' (old) and '{}' (new)", j.experiment.name, k.experiment.name);
  const bool single = before.size() == 1 && after.size() == 1;
  if (single)
    out.caveat = "one run a side: cannot tell noise from change; only changes outside the within-run spread (a bootstrap over "
                 "windows) are flagged; run each side several times for a test across runs";
  else if (stats::smallest_p(before.size(), after.size()) >= options.alpha)
    out.caveat = fmt::format("{} and {} runs cannot show a difference at p < {} (the smallest possible p is {}); no figure can be a "
                             "regression; run at least 4 a side",
                             before.size(), after.size(), format_number(options.alpha, 3),
                             format_number(stats::smallest_p(before.size(), after.size()), 3));

  // Verdict stability: how many runs passed on each side.
  auto passed = [](const std::vector<journal>& runs) {
    return static_cast<double>(std::count_if(runs.begin(), runs.end(), [](const journal& j) { return j.verdict.result == "passed"; }));
  };
  {
    figure_change c;
    c.metric = "verdict";
    c.relative = false;
    c.before = passed(before);
    c.after = passed(after);
    c.shown = fmt::format("verdict passed {} of {} -> {} of {}", *c.before, before.size(), *c.after, after.size());
    double b = *c.before / static_cast<double>(before.size()), a = *c.after / static_cast<double>(after.size());
    // Always passing before and never after is a change no noise explains; anything between is flaky.
    if (b == 1 && a == 0 && !options.limits.allow_new_failures) c.kind = change_kind::regression;
    else if (a < b) c.kind = change_kind::worse;
    else if (a > b) c.kind = change_kind::improved;
    out.changes.push_back(std::move(c));
  }

  if (!options.tiers.empty()) {
    out.tier_before = tier_range_of(before, options);
    out.tier_after = tier_range_of(after, options);
    figure_change c;
    c.metric = "sla_tier";
    c.relative = false;
    int bl = tier_rank(options.tiers, out.tier_before.low), bh = tier_rank(options.tiers, out.tier_before.high);
    int al = tier_rank(options.tiers, out.tier_after.low), ah = tier_rank(options.tiers, out.tier_after.high);
    c.before = bl;
    c.after = al;
    c.shown = fmt::format("sla_tier {} -> {}", out.tier_before.text(), out.tier_after.text());
    c.borderline = out.tier_before.borderline() || out.tier_after.borderline();
    if (ah < bl) c.kind = options.limits.allow_tier_drop ? change_kind::worse : change_kind::regression;  // even the best new is below the worst old
    else if (al > bh) c.kind = change_kind::improved;
    else if (al < bl || ah < bh) {
      c.kind = change_kind::worse;
      c.note = "borderline: the tier intervals overlap";
    }
    out.changes.push_back(std::move(c));
  }

  for (const auto& f : figures_of(after.front(), options.limits)) {
    values b, a;
    for (const auto& j : before)
      if (auto v = f.value(j)) b.push_back(*v);
    for (const auto& j : after)
      if (auto v = f.value(j)) a.push_back(*v);
    if (b.empty() || a.empty()) continue;
    figure_change c;
    c.metric = f.metric;
    c.relative = f.relative;
    c.before = stats::median(b);
    c.after = stats::median(a);
    if (f.relative && *c.before == 0) continue;  // no ratio to a zero
    c.change = change_of(f.relative, *c.before, *c.after);
    bool beyond = f.beyond(*c.before, *c.after);
    auto statistic = [rel = f.relative](std::span<const double> x, std::span<const double> y) {
      return change_of(rel, stats::median(x), stats::median(y));
    };
    if (!single) {
      c.interval = stats::bootstrap(b, a, statistic, options.bootstrap);
      c.p = stats::mann_whitney_u(b, a).p;
      judge(c, f.higher_is_worse, beyond, *c.p < options.alpha, fmt::format("beyond the threshold but not significant ({})", p_text(*c.p)));
    } else {
      values wb = f.windows ? f.windows(before.front()) : values{}, wa = f.windows ? f.windows(after.front()) : values{};
      bool outside = false;
      std::string note = "no within-run spread for this figure; compare sets of runs";
      if (wb.size() >= 2 && wa.size() >= 2) {
        // The window-level change's interval, moved to centre on the figure's change.
        auto i = stats::bootstrap(wb, wa, f.relative ? two_sample_change(relative_median_change) : two_sample_change(mean_difference),
                                  options.bootstrap);
        if (!std::isnan(i.low)) {
          c.interval = i;
          outside = f.higher_is_worse ? i.low > 0 : i.high < 0;
          note = "beyond the threshold but within the within-run spread";
        }
      } else if (f.metric == "mttr") {
        // MTTR is measured from samples; one window, its resolution, is in the threshold. But a
        // recovery that waits for the service's breaker to try again moves from run to run with
        // the phase of its retry timer, by up to one retry period (2.29 s and 3.49 s in two runs
        // of the same short db-slowness): within that, one run a side cannot call it.
        const auto before_retry = breaker_retry_period(before.front()), after_retry = breaker_retry_period(after.front());
        const auto retry = before_retry && after_retry ? std::max(*before_retry, *after_retry)
                                                       : before_retry ? before_retry : after_retry;
        outside = !retry || *c.after - *c.before > *retry;
        if (retry)
          note = fmt::format("within the breaker's retry period seen in the runs ({}); compare sets of runs", format_seconds(*retry));
      }
      // The breaker's times and flaps have no within-run spread, and they move from run to run
      // with the phase of the shop's timers (time to open 0.55 .. 1.23 s over three runs of the
      // same db-slowness): one run a side cannot call them regressions.
      judge(c, f.higher_is_worse, beyond, outside, note);
    }
    c.shown = fmt::format("{} {}", c.metric, signed_text(f.relative, f.metric, *c.change));
    if (c.interval) c.shown += fmt::format(" [{}, {}]", signed_text(f.relative, f.metric, c.interval->low), signed_text(f.relative, f.metric, c.interval->high));
    if (c.p) c.shown += ", " + p_text(*c.p);
    out.changes.push_back(std::move(c));
  }
  if (!single) add_margin_changes(before, after, options, out);
  return out;
}

void bound_by_spread(run_diff& diff, const set_diff& spread) {
  bool borderline = spread.tier_before.borderline() || spread.tier_after.borderline();
  for (auto& c : diff.changes) {
    if (c.kind != change_kind::regression) continue;
    if ((c.metric == "sla_tier" || c.metric == "expectation sla") && borderline) {
      c.kind = change_kind::worse;
      c.note = fmt::format("borderline: {} -> {}", spread.tier_before.text(), spread.tier_after.text());
      continue;
    }
    for (const auto& s : spread.changes) {
      if (s.metric != c.metric || s.kind == change_kind::regression) continue;
      if (c.metric.rfind("breaker ", 0) == 0) {
        c.kind = change_kind::worse;
        c.note = "no within-run spread for the breaker: compare sets of runs";
      } else if (c.metric == "mttr") {
        c.kind = change_kind::worse;
        c.note = s.note;
      } else if (s.interval) {
        c.kind = change_kind::worse;
        c.note = s.note.empty() ? "within the within-run spread" : s.note;
        c.delta += fmt::format(" within-run [{}, {}]", signed_text(s.relative, s.metric, s.interval->low),
                               signed_text(s.relative, s.metric, s.interval->high));
      }
    }
  }
}

namespace {

std::string value_text(const figure_change& c, const std::optional<double>& v) {
  if (!v) return "—";
  if (!c.unit.empty()) return format_margin_value(c.unit, *v);
  if (c.metric == "score") return format_score(*v);
  if (c.metric.rfind("error_rate", 0) == 0) return format_percent(*v);
  if (c.metric == "verdict" || c.metric == "sla_tier") return "";
  return format_seconds(*v);
}

std::string result_text(const figure_change& c) {
  std::string r = c.kind == change_kind::unchanged ? "" : to_string(c.kind);
  if (!c.note.empty()) r += (r.empty() ? "" : " (") + c.note + (r.empty() ? "" : ")");
  return r;
}

}  // namespace

std::string render_set_diff_text(const set_diff& diff) {
  std::string out = fmt::format("faultline diff: {} ({} run{} -> {} run{})\n", diff.experiment, diff.runs_before, diff.runs_before == 1 ? "" : "s",
                                diff.runs_after, diff.runs_after == 1 ? "" : "s");
  if (!diff.mismatch.empty()) out += "warning: " + diff.mismatch + "\n";
  if (!diff.caveat.empty()) out += "note: " + diff.caveat + "\n";
  std::size_t unchanged = 0;
  for (const auto& c : diff.changes) {
    if (c.kind == change_kind::unchanged && c.change && *c.change == 0) {
      ++unchanged;  // the same in every run on both sides: nothing to show
      continue;
    }
    std::string values = (c.before && c.after && !value_text(c, c.before).empty())
                             ? fmt::format("  ({} -> {})", value_text(c, c.before), value_text(c, c.after))
                             : "";
    auto result = result_text(c);
    out += fmt::format("  {}{}{}\n", c.shown, values, result.empty() ? "" : "  " + result);
  }
  if (unchanged > 0) out += fmt::format("  ({} figure{} identical on both sides not shown)\n", unchanged, unchanged == 1 ? "" : "s");
  auto n = diff.regressions();
  out += n == 0 ? std::string("no regression beyond the thresholds and the noise\n")
                : fmt::format("{} regression{} beyond the thresholds and the noise\n", n, n == 1 ? "" : "s");
  return out;
}

std::string render_set_diff_markdown(const set_diff& diff) {
  auto n = diff.regressions();
  std::string out = fmt::format("## {} {}: {} ({} -> {} runs)\n\n", n == 0 ? "✅" : "❌", markdown_cell(diff.experiment),
                                n == 0 ? std::string("no regression") : fmt::format("{} regression{}", n, n == 1 ? "" : "s"),
                                diff.runs_before, diff.runs_after);
  if (!diff.mismatch.empty()) out += "> ⚠️ " + markdown_cell(diff.mismatch) + "\n\n";
  if (!diff.caveat.empty()) out += "> " + markdown_cell(diff.caveat) + "\n\n";
  out += "| Change | Old | New | Result |\n|---|---|---|---|\n";
  for (const auto& c : diff.changes)
    out += fmt::format("| {} | {} | {} | {} |\n", markdown_cell(c.shown), markdown_cell(value_text(c, c.before)),
                       markdown_cell(value_text(c, c.after)), markdown_cell(result_text(c)));
  return out;
}

}  // namespace faultline::reports
