#include "reports/diff.hpp"

#include "reports/format.hpp"
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
  if (ra > rb) c.kind = change_kind::improved;
  else if (ra < rb) c.kind = limits.allow_tier_drop ? change_kind::worse : change_kind::regression;
  out.changes.push_back(std::move(c));
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
      if (!after || !before || !before->p99 || !after->p99) continue;
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
    if (newly_failing) {
      c.limit = limits.allow_new_failures ? "new failures allowed" : "no new failures";
      c.kind = limits.allow_new_failures ? change_kind::worse : change_kind::regression;
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
