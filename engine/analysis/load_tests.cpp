#include "engine/analysis/load_tests.hpp"

#include "core/units.hpp"
#include "engine/analysis/rule_eval.hpp"
#include "engine/analysis/scoring.hpp"

#include <fmt/format.h>

namespace faultline::engine {

namespace {

std::string load_of(const probes::load_stage& s) {
  if (s.kind == probes::load_stage::model::closed) return fmt::format("{} user{}", s.users, s.users == 1 ? "" : "s");
  return format_rate(s.rate_from);
}

}  // namespace

std::string level_phase(const std::string& name) { return "level:" + name; }

std::vector<reports::rule_result> judge_span(const std::vector<rule>& rules, const std::vector<reports::phase_stat>& stats,
                                             const series_windows& windows, double window, double start, double end) {
  std::vector<reports::rule_result> out;
  for (const auto& r : rules) {
    reports::rule_result result;
    result.rule = r.text;
    const reports::phase_stat* stat = nullptr;
    for (const auto& s : stats)
      if (s.series == r.series) stat = &s;
    std::vector<const reports::window_point*> in_span;
    if (auto it = windows.find(r.series); it != windows.end())
      for (const auto& w : it->second)
        if (w.start + window > start && w.start < end) in_span.push_back(&w);
    std::optional<bool> held;
    std::optional<double> value;
    if (stat && stat->count > 0) {
      held = holds_over_phase(r, *stat, in_span, window);
      value = measure(r.stat, *stat);
      if (r.stat == statistic::value)
        for (const auto* w : in_span)
          if (w->value && (!value || holds(r, *w, window) == false)) value = w->value;
    }
    if (!held || !value) {
      result.measured = "not measured: no samples of '" + r.series + "'";
    } else {
      result.held = *held;
      result.measured = measured_text(r.stat, *value);
    }
    out.push_back(std::move(result));
  }
  return out;
}

std::vector<reports::level_record> level_records(const experiment& x, const run_facts& facts) {
  series_windows windows;
  for (const auto& s : facts.series) windows[s.name] = s.windows;
  std::vector<reports::level_record> out;
  for (const auto& level : x.levels) {
    const auto* span = find_phase(facts.phases, level_phase(level.name));
    if (!span) continue;
    reports::level_record r;
    r.name = level.name;
    r.load = load_of(level.stage);
    r.start = span->start;
    r.end = span->end;
    std::vector<reports::phase_stat> stats;
    for (const auto& s : facts.phase_stats)
      if (s.phase == span->name) stats.push_back(s);
    take_load_figures(stats, r);
    r.rules = judge_span(level.require, stats, windows, facts.window, span->start, span->end);
    r.held = std::all_of(r.rules.begin(), r.rules.end(), [](const auto& q) { return q.held; });
    out.push_back(std::move(r));
  }
  return out;
}

void add_load_test_expectations(const experiment& x, reports::analysis_record& out) {
  for (const auto& level : out.levels) {
    reports::expectation_record e;
    e.name = "level:" + level.name;
    e.description = fmt::format("at {}, every rule of the level holds", level.load);
    std::string target, measured;
    std::size_t held = 0;
    for (const auto& r : level.rules) {
      target += (target.empty() ? "" : ", ") + r.rule;
      if (r.held) ++held;
      else measured += (measured.empty() ? "" : "; ") + fmt::format("\"{}\" measured {}", r.rule, r.measured);
    }
    e.target = target.empty() ? "no rules" : target;
    e.measured = measured.empty() ? fmt::format("all {} held (p95 {}, {} at {})", level.rules.size(), format_seconds(level.p95),
                                                format_percent(level.error_rate), format_measured_rate(level.rate))
                                  : measured;
    e.measured_value = level.rules.empty() ? 1.0 : static_cast<double>(held) / static_cast<double>(level.rules.size());
    e.met = level.held;
    e.grade = *e.measured_value;
    e.weight = score_weights::rule;
    out.expectations.push_back(std::move(e));
  }
  if (!x.expect.capacity) return;
  const auto& c = *x.expect.capacity;
  const auto add = [&](const std::string& name, const std::string& condition, std::optional<double> target) {
    if (!target) return;
    reports::expectation_record e;
    e.name = name;
    e.description = condition == "healthy" ? "the highest rate at which the rules hold"
                                           : "the highest rate at which the rules hold while the faults are active";
    e.target = ">= " + format_rate(*target);
    e.weight = score_weights::sla;
    const reports::capacity_search_record* search = nullptr;
    for (const auto& s : out.capacity)
      if (s.condition == condition) search = &s;
    if (!search || search->trials.empty()) {
      e.measured = "not measured: the search did not run";
    } else {
      e.measured = format_measured_rate(search->capacity) + (search->at_limit ? " (the search's limit)" : "");
      e.measured_value = search->capacity;
      e.met = search->capacity >= *target;
      e.grade = grade_at_least(search->capacity, *target);
      // The true capacity lies between the highest rate that held and the lowest that broke.
      std::optional<reports::stats::interval> between;
      if (search->broke_at) between = reports::stats::interval{search->capacity, *search->broke_at};
      e.margins.push_back(reports::make_margin("capacity " + condition, "per_second", search->capacity, *target,
                                               reports::bound_kind::at_least, between, "search"));
    }
    out.expectations.push_back(std::move(e));
  };
  add("capacity", "healthy", c.at_least);
  add("capacity.under_fault", "under_fault", c.under_fault_at_least);
}

std::optional<std::string> first_missed_level(const reports::analysis_record& analysis) {
  std::size_t held = 0;
  for (const auto& l : analysis.levels) held += l.held ? 1 : 0;
  for (const auto& l : analysis.levels) {
    if (l.held) continue;
    std::string broken;
    for (const auto& r : l.rules)
      if (!r.held) broken += (broken.empty() ? "" : ", ") + fmt::format("\"{}\" measured {}", r.rule, r.measured);
    return fmt::format("level '{}' ({}) missed: {}; {} of {} levels held", l.name, l.load, broken, held, analysis.levels.size());
  }
  return std::nullopt;
}

}  // namespace faultline::engine
