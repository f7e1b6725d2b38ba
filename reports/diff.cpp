#include "reports/diff.hpp"

#include "reports/format.hpp"
#include "reports/margins.hpp"
#include "reports/run_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace faultline::reports {

const char* to_string(change_kind kind) {
  switch (kind) {
    case change_kind::unchanged: return "unchanged";
    case change_kind::improved: return "improved";
    case change_kind::worse: return "worse";
    case change_kind::regression: return "REGRESSION";
  }
  return "?";
}

std::size_t run_diff::regressions() const {
  return static_cast<std::size_t>(
      std::count_if(changes.begin(), changes.end(), [](const auto& c) { return c.kind == change_kind::regression; }));
}

namespace {

int tier_rank(std::string_view tier) {
  if (tier == "bronze") return 1;
  if (tier == "silver") return 2;
  if (tier == "gold") return 3;
  if (tier == "platinum") return 4;
  return 0;
}

std::string relative(double before, double after) {
  if (before == 0) return "";
  double pct = (after - before) / before * 100;
  return fmt::format(" ({}{}%)", pct >= 0 ? "+" : "", format_number(pct, 1));
}

std::string signed_percent_points(double delta) {
  return (delta >= 0 ? "+" : "-") + format_percent(std::fabs(delta));
}

const expectation_record* find_expectation(const journal& j, std::string_view name) {
  for (const auto& e : j.analysis.expectations)
    if (e.name == name) return &e;
  return nullptr;
}

void compare_score(const journal& b, const journal& a, const diff_thresholds& limits, run_diff& out) {
  metric_change c;
  c.metric = "score";
  c.before = format_score(b.analysis.score);
  c.after = format_score(a.analysis.score);
  c.before_value = b.analysis.score;
  c.after_value = a.analysis.score;
  double delta = a.analysis.score - b.analysis.score;
  if (delta != 0) c.delta = (delta > 0 ? "+" : "") + format_score(delta);
  c.limit = "drop ≤ " + format_score(limits.max_score_drop);
  if (delta > 0) c.kind = change_kind::improved;
  else if (-delta > limits.max_score_drop) c.kind = change_kind::regression;
  else if (delta < 0) c.kind = change_kind::worse;
  out.changes.push_back(std::move(c));
}

void compare_tier(const journal& b, const journal& a, const diff_thresholds& limits, run_diff& out) {
  metric_change c;
  c.metric = "sla_tier";
  c.before = b.analysis.sla_tier.empty() ? "none" : b.analysis.sla_tier;
  c.after = a.analysis.sla_tier.empty() ? "none" : a.analysis.sla_tier;
  int rb = tier_rank(c.before), ra = tier_rank(c.after);
  c.before_value = rb;
  c.after_value = ra;
  if (ra != rb) c.delta = fmt::format("{:+} tier{}", ra - rb, std::abs(ra - rb) == 1 ? "" : "s");
  c.limit = limits.allow_tier_drop ? "drop allowed" : "no drop";
  // Each run's tier range over its windows: a drop between overlapping ranges is within the noise.
  auto range = [](const journal& j, int tier) {
    std::pair<int, int> r{tier, tier};
    if (const auto& text = j.analysis.sla_tier_range; text && text->find("..") != std::string::npos)
      r = {tier_rank(text->substr(0, text->find(".."))), tier_rank(text->substr(text->find("..") + 2))};
    return r;
  };
  auto [bl, bh] = range(b, rb);
  auto [al, ah] = range(a, ra);
  if (ra > rb) c.kind = change_kind::improved;
  else if (ra < rb && ah >= bl && (al != ah || bl != bh)) {
    c.kind = change_kind::worse;
    c.note = fmt::format("borderline: {} -> {}", b.analysis.sla_tier_range.value_or(c.before), a.analysis.sla_tier_range.value_or(c.after));
  } else if (ra < rb) c.kind = limits.allow_tier_drop ? change_kind::worse : change_kind::regression;
  out.changes.push_back(std::move(c));
}

// Time to open, time to close (relative, at least the threshold's floor and the times'
// resolution) and flaps of the circuit breaker.
void compare_breaker(const journal& b, const journal& a, const diff_thresholds& limits, run_diff& out) {
  if (!b.analysis.breaker || !a.analysis.breaker) return;
  const auto& bb = *b.analysis.breaker;
  const auto& ab = *a.analysis.breaker;
  auto time = [&](const char* metric, std::optional<double> before, std::optional<double> after, std::optional<double> before_res,
                  std::optional<double> after_res) {
    if (!before && !after) return;
    metric_change c;
    c.metric = metric;
    c.before = before ? format_seconds(*before) : "never";
    c.after = after ? format_seconds(*after) : "never";
    c.before_value = before;
    c.after_value = after;
    c.limit = fmt::format("≤ +{}%", format_number(limits.max_breaker_time_increase_ratio * 100, 1));
    if (before && after) {
      double delta = *after - *before;
      double allowed = std::max({*before * limits.max_breaker_time_increase_ratio, limits.min_breaker_time_increase,
                                 (before_res.value_or(0) + after_res.value_or(0)) / 2});
      if (delta != 0) c.delta = format_signed_seconds(delta) + relative(*before, *after);
      if (delta > allowed) c.kind = change_kind::regression;
      else if (delta > 0) c.kind = change_kind::worse;
      else if (delta < 0) c.kind = change_kind::improved;
    } else if (before && !after) {
      c.kind = change_kind::regression;  // it opened (or closed) before and no longer does
    } else {
      c.kind = change_kind::improved;
    }
    out.changes.push_back(std::move(c));
  };
  time("breaker time_to_open", bb.time_to_open, ab.time_to_open, bb.time_to_open_resolution, ab.time_to_open_resolution);
  time("breaker time_to_close", bb.time_to_close, ab.time_to_close, bb.time_to_close_resolution, ab.time_to_close_resolution);
  metric_change f;
  f.metric = "breaker flaps";
  f.before = std::to_string(bb.flaps);
  f.after = std::to_string(ab.flaps);
  f.before_value = static_cast<double>(bb.flaps);
  f.after_value = static_cast<double>(ab.flaps);
  auto delta = static_cast<double>(ab.flaps - bb.flaps);
  if (delta != 0) f.delta = fmt::format("{:+}", ab.flaps - bb.flaps);
  f.limit = fmt::format("≤ +{}", format_number(limits.max_flaps_increase, 1));
  if (delta > limits.max_flaps_increase) f.kind = change_kind::regression;
  else if (delta > 0) f.kind = change_kind::worse;
  else if (delta < 0) f.kind = change_kind::improved;
  out.changes.push_back(std::move(f));
}

// The first margin of an expectation whose interval spans its boundary, as shown.
std::optional<std::string> borderline_margin(const expectation_record* e) {
  if (!e) return std::nullopt;
  for (const auto& m : e->margins)
    if (m.borderline) return m.quantity + " margin " + format_margin(m);
  return std::nullopt;
}

void compare_mttr(const journal& b, const journal& a, const diff_thresholds& limits, run_diff& out) {
  bool had_faults = find_phase(b, "fault") || find_phase(a, "fault") || b.analysis.mttr || a.analysis.mttr ||
                    !b.analysis.recovered || !a.analysis.recovered;
  if (!had_faults) return;
  metric_change c;
  c.metric = "mttr";
  auto shown = [](const journal& j) { return j.analysis.mttr ? format_seconds(*j.analysis.mttr) : j.analysis.recovered ? "—" : "not recovered"; };
  c.before = shown(b);
  c.after = shown(a);
  c.before_value = b.analysis.mttr;
  c.after_value = a.analysis.mttr;
  // One window is the resolution MTTR is measured at; a change smaller than that is not a change.
  double resolution = std::max(a.window, b.window);
  if (b.analysis.mttr && a.analysis.mttr) {
    double before = *b.analysis.mttr, after = *a.analysis.mttr, delta = after - before;
    double allowed = limits.max_mttr_increase ? *limits.max_mttr_increase : std::max(before * limits.max_mttr_increase_ratio, resolution);
    if (delta != 0) c.delta = format_signed_seconds(delta) + relative(before, after);
    c.limit = limits.max_mttr_increase ? "≤ +" + format_seconds(*limits.max_mttr_increase)
                                       : fmt::format("≤ +{}% (at least one window)", format_number(limits.max_mttr_increase_ratio * 100, 1));
    if (delta > allowed) c.kind = change_kind::regression;
    else if (delta > 0) c.kind = change_kind::worse;
    else if (delta < 0) c.kind = change_kind::improved;
  } else if (b.analysis.recovered && !a.analysis.recovered) {
    c.limit = "must recover";
    c.kind = change_kind::regression;
  } else if (!b.analysis.recovered && a.analysis.recovered) {
    c.kind = change_kind::improved;
  }
  out.changes.push_back(std::move(c));
}

// Per series (in the order the new run lists them), p99 across the phases, then the error rate.
void compare_phase_stats(const journal& b, const journal& a, const diff_thresholds& limits, run_diff& out) {
  std::vector<std::string> series;
  for (const auto& s : a.analysis.phase_stats)
    if (std::find(series.begin(), series.end(), s.series) == series.end()) series.push_back(s.series);
  const auto phases = ordered_phase_names(a);
  for (const auto& name : series) {
    for (const auto& phase : phases) {
      const auto* after = find_phase_stat(a, name, phase);
      const auto* before = find_phase_stat(b, name, phase);
      if (!after || !before || !before->p99 || !after->p99 || !latency_describes_system(a, name)) continue;
      metric_change c;
      c.metric = fmt::format("p99 {}/{}", name, phase);
      c.before = format_seconds(*before->p99);
      c.after = format_seconds(*after->p99);
      c.before_value = before->p99;
      c.after_value = after->p99;
      double delta = *after->p99 - *before->p99;
      if (delta != 0) c.delta = format_signed_seconds(delta) + relative(*before->p99, *after->p99);
      c.limit = fmt::format("≤ +{}%", format_number(limits.max_p99_increase_ratio * 100, 1));
      bool beyond = delta > *before->p99 * limits.max_p99_increase_ratio && delta > limits.min_p99_increase;
      if (beyond) c.kind = change_kind::regression;
      else if (delta > 0) c.kind = change_kind::worse;
      else if (delta < 0) c.kind = change_kind::improved;
      out.changes.push_back(std::move(c));
    }
    for (const auto& phase : phases) {
      const auto* after = find_phase_stat(a, name, phase);
      const auto* before = find_phase_stat(b, name, phase);
      if (!after || !before) continue;
      metric_change e;
      e.metric = fmt::format("error_rate {}/{}", name, phase);
      e.before = format_percent(before->error_rate);
      e.after = format_percent(after->error_rate);
      e.before_value = before->error_rate;
      e.after_value = after->error_rate;
      double delta = after->error_rate - before->error_rate;
      if (delta != 0) e.delta = signed_percent_points(delta);
      e.limit = "≤ " + signed_percent_points(limits.max_error_rate_increase);
      if (delta > limits.max_error_rate_increase) e.kind = change_kind::regression;
      else if (delta > 0) e.kind = change_kind::worse;
      else if (delta < 0) e.kind = change_kind::improved;
      out.changes.push_back(std::move(e));
    }
  }
}

void compare_expectations(const journal& b, const journal& a, const diff_thresholds& limits, run_diff& out) {
  for (const auto& after : a.analysis.expectations) {
    const auto* before = find_expectation(b, after.name);
    metric_change c;
    c.metric = "expectation " + after.name;
    c.before = before ? (before->met ? "met" : "missed") : "absent";
    c.after = after.met ? "met" : "missed";
    c.before_value = before ? std::optional<double>(before->grade) : std::nullopt;
    c.after_value = after.grade;
    if (before && before->grade != after.grade)
      c.delta = fmt::format("grade {}% → {}%", format_number(before->grade * 100, 0), format_number(after.grade * 100, 0));
    bool newly_failing = !after.met && (!before || before->met);
    auto borderline = borderline_margin(&after);
    if (!borderline) borderline = borderline_margin(before);
    if (newly_failing) {
      c.limit = limits.allow_new_failures ? "new failures allowed" : "no new failures";
      c.kind = limits.allow_new_failures ? change_kind::worse : change_kind::regression;
      if (borderline) {
        // Met and missed both lie within the run's noise: not evidence of a change.
        c.kind = change_kind::worse;
        c.note = "borderline: " + *borderline;
      }
    } else if (after.met && before && !before->met) {
      c.kind = change_kind::improved;
    } else if (before && after.grade < before->grade) {
      c.kind = change_kind::worse;
    } else if (before && after.grade > before->grade) {
      c.kind = change_kind::improved;
    }
    out.changes.push_back(std::move(c));
  }
  for (const auto& before : b.analysis.expectations) {
    if (find_expectation(a, before.name)) continue;
    metric_change c;
    c.metric = "expectation " + before.name;
    c.before = before.met ? "met" : "missed";
    c.after = "absent";
    out.changes.push_back(std::move(c));
  }
}

void compare_verdict(const journal& b, const journal& a, const diff_thresholds& limits, run_diff& out) {
  metric_change c;
  c.metric = "verdict";
  c.before = b.verdict.result;
  c.after = a.verdict.result;
  c.before_value = b.verdict.exit_code;
  c.after_value = a.verdict.exit_code;
  bool passed_before = b.verdict.result == "passed", passed_after = a.verdict.result == "passed";
  if (passed_before && !passed_after) {
    c.limit = limits.allow_new_failures ? "new failures allowed" : "must keep passing";
    c.kind = limits.allow_new_failures ? change_kind::worse : change_kind::regression;
    // It failed only on expectations that are borderline in either run: within the noise.
    bool missed = false, all_borderline = a.verdict.result == "failed";
    for (const auto& e : a.analysis.expectations) {
      if (e.met) continue;
      missed = true;
      if (!borderline_margin(&e) && !borderline_margin(find_expectation(b, e.name))) all_borderline = false;
    }
    if (missed && all_borderline && c.kind == change_kind::regression) {
      c.kind = change_kind::worse;
      c.note = "borderline: every missed expectation is within its noise";
    }
  } else if (!passed_before && passed_after) {
    c.kind = change_kind::improved;
  }
  out.changes.push_back(std::move(c));
}

// Characters as a terminal shows them: UTF-8 continuation bytes take no column.
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

std::string kind_text(const metric_change& c) {
  std::string text = c.kind == change_kind::unchanged ? "" : to_string(c.kind);
  return c.note.empty() ? text : text + " (" + c.note + ")";
}

}  // namespace

run_diff compare_runs(const journal& before, const journal& after, const diff_thresholds& limits) {
  run_diff out;
  out.experiment = after.experiment.name;
  out.run_before = before.run_id;
  out.run_after = after.run_id;
  if (before.experiment.name != after.experiment.name)
    out.mismatch = fmt::format("the journals are of different experiments: '{}' (old) and '{}' (new)", before.experiment.name,
                               after.experiment.name);
  compare_verdict(before, after, limits, out);
  compare_score(before, after, limits, out);
  compare_tier(before, after, limits, out);
  compare_mttr(before, after, limits, out);
  compare_breaker(before, after, limits, out);
  compare_phase_stats(before, after, limits, out);
  compare_expectations(before, after, limits, out);
  return out;
}

std::string render_diff_text(const run_diff& diff) {
  std::string out = fmt::format("faultline diff: {} (run {} -> run {})\n", diff.experiment, diff.run_before.empty() ? "?" : diff.run_before,
                                diff.run_after.empty() ? "?" : diff.run_after);
  if (!diff.mismatch.empty()) out += "warning: " + diff.mismatch + "\n";
  // Column widths from the content (fmt pads by display width, so "≤" counts as one).
  std::size_t w[5] = {6, 3, 3, 6, 5};
  auto columns = [](const metric_change& c) { return std::array<const std::string*, 5>{&c.metric, &c.before, &c.after, &c.delta, &c.limit}; };
  for (const auto& c : diff.changes) {
    auto cols = columns(c);
    for (std::size_t i = 0; i < 5; ++i) w[i] = std::max(w[i], display_width(*cols[i]));
  }
  auto line = [&](const std::string& metric, const std::string& before, const std::string& after, const std::string& delta,
                  const std::string& limit, const std::string& result) {
    auto text = fmt::format("  {:<{}}  {:>{}}  {:>{}}  {:<{}}  {:<{}}  {}", metric, w[0], before, w[1], after, w[2], delta, w[3], limit, w[4], result);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line("metric", "old", "new", "change", "limit", "result");
  for (const auto& c : diff.changes) line(c.metric, c.before, c.after, c.delta, c.limit, kind_text(c));
  auto n = diff.regressions();
  out += n == 0 ? std::string("no regression beyond the thresholds\n")
                : fmt::format("{} regression{} beyond the thresholds\n", n, n == 1 ? "" : "s");
  return out;
}

std::string render_diff_markdown(const run_diff& diff) {
  auto n = diff.regressions();
  std::string out = fmt::format("## {} {}: {}\n\n", n == 0 ? "✅" : "❌", markdown_cell(diff.experiment),
                                n == 0 ? std::string("no regression") : fmt::format("{} regression{}", n, n == 1 ? "" : "s"));
  if (!diff.mismatch.empty()) out += "> ⚠️ " + markdown_cell(diff.mismatch) + "\n\n";
  out += "| Metric | Old | New | Change | Limit | |\n|---|---|---|---|---|---|\n";
  for (const auto& c : diff.changes) {
    std::string mark = c.kind == change_kind::regression ? "❌ regression" : c.kind == change_kind::improved ? "✅ improved"
                       : c.kind == change_kind::worse    ? "worse"
                                                         : "";
    if (!c.note.empty()) mark += " (" + c.note + ")";
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", markdown_cell(c.metric), markdown_cell(c.before), markdown_cell(c.after),
                       markdown_cell(c.delta), markdown_cell(c.limit), mark);
  }
  return out;
}

}  // namespace faultline::reports
