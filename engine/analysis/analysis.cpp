#include "engine/analysis/analysis.hpp"

#include "core/units.hpp"
#include "engine/analysis/breaker.hpp"
#include "engine/analysis/load_tests.hpp"
#include "engine/analysis/recovery_times.hpp"
#include "engine/analysis/rule_eval.hpp"
#include "engine/analysis/scoring.hpp"
#include "probes/timeline.hpp"
#include "reports/margins.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace faultline::engine {
namespace {

std::string seconds_text(double s) { return format_seconds(s); }

double seconds_of(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

const reports::phase_stat* find_stat(const std::vector<reports::phase_stat>& stats, const std::string& series,
                                     const std::string& phase) {
  for (const auto& s : stats)
    if (s.series == series && s.phase == phase) return &s;
  return nullptr;
}

series_windows windows_by_series(const run_facts& facts) {
  series_windows out;
  for (const auto& s : facts.series) out[s.name] = s.windows;
  return out;
}

std::vector<const reports::window_point*> windows_in(const run_facts& facts, const std::string& series,
                                                     const reports::phase_span& phase) {
  std::vector<const reports::window_point*> out;
  for (const auto& s : facts.series) {
    if (s.name != series) continue;
    for (const auto& w : s.windows)
      if (w.start + facts.window > phase.start && w.start < phase.end) out.push_back(&w);
  }
  return out;
}

// A grade for a rule from the measured value and the comparator's direction.
double grade_rule(const rule& r, double measured, bool met) {
  if (met) return 1;
  const bool fraction_near_one = unit_of(r) == stat_unit::fraction && r.threshold > 0.5;
  switch (r.cmp) {
    case comparator::less:
    case comparator::less_equal: return grade_at_most(measured, r.threshold);
    case comparator::greater:
    case comparator::greater_equal:
      return fraction_near_one ? grade_availability(measured, r.threshold) : grade_at_least(measured, r.threshold);
    case comparator::equal:
    case comparator::not_equal: return 0;
  }
  return 0;
}

// A margin's unit, as reports/margins.hpp formats it.
std::string margin_unit(stat_unit unit) {
  switch (unit) {
    case stat_unit::latency: return "seconds";
    case stat_unit::fraction:
    case stat_unit::share: return "fraction";
    case stat_unit::per_second: return "per_second";
    case stat_unit::count: return "count";
    case stat_unit::bytes: return "bytes";
    case stat_unit::number:
    case stat_unit::boolean: return "number";
  }
  return "number";
}

// The within-run interval of a phase statistic: a bootstrap over the phase's windows. Latencies
// scale with the median window's spread, fractions and rates shift with the windows' mean; phase
// totals (count, errors) and a probe's worst value have none.
std::optional<reports::stats::interval> window_spread(const run_facts& facts, const std::string& series,
                                                      const reports::phase_span& phase, statistic stat, double figure) {
  auto values = reports::window_values(facts.series, series, phase,
                                       [&](const reports::window_point& w) { return measure(stat, w, facts.window); });
  if (values.size() < 2) return std::nullopt;
  switch (unit_of(stat)) {
    case stat_unit::latency: return reports::spread_of_quantile(figure, values);
    case stat_unit::fraction:
    case stat_unit::per_second: {
      auto i = reports::spread_of_mean(figure, values);
      if (unit_of(stat) == stat_unit::fraction) i = {std::clamp(i.low, 0.0, 1.0), std::clamp(i.high, 0.0, 1.0)};
      return i;
    }
    default: return std::nullopt;
  }
}

// An event time known within its resolution: the interval is the resolution around it.
std::optional<reports::stats::interval> resolution_spread(double seconds, std::optional<double> resolution) {
  if (!resolution || *resolution <= 0) return std::nullopt;
  return reports::stats::interval{std::max(0.0, seconds - *resolution / 2), seconds + *resolution / 2};
}

reports::expectation_record bound_expectation(std::string name, std::string description, std::optional<double> measured,
                                              double target, double weight, std::string not_measured,
                                              std::optional<double> resolution = std::nullopt) {
  reports::expectation_record e;
  e.name = std::move(name);
  e.description = std::move(description);
  e.target = "<= " + seconds_text(target);
  e.weight = weight;
  if (!measured) {
    e.measured = "not measured: " + not_measured;
    return e;
  }
  e.measured = seconds_text(*measured);
  e.measured_value = *measured;
  e.met = *measured <= target;
  e.grade = grade_at_most(*measured, target);
  auto quantity = e.name == "breaker.opens_within" ? "breaker time_to_open" : e.name == "breaker.closes_within" ? "breaker time_to_close" : e.name;
  e.margins.push_back(reports::make_margin(quantity, "seconds", *measured, target, reports::bound_kind::at_most,
                                           resolution_spread(*measured, resolution), "resolution"));
  return e;
}

class expectation_builder {
public:
  expectation_builder(const experiment& x, const run_facts& facts, reports::analysis_record& out)
      : x_(x), facts_(facts), out_(out), fault_(find_phase(facts.phases, "fault")) {}

  void sla() {
    if (!x_.expect.sla) return;
    const auto target = sla_target_of(*x_.expect.sla);
    reports::expectation_record e;
    e.name = "sla";
    e.description = fmt::format("SLA tier {} during the fault (availability >= {}, p95 <= {})", to_string(*x_.expect.sla),
                                format_fraction(target.availability), format_duration(target.p95));
    e.target = fmt::format(">= {}", to_string(*x_.expect.sla));
    e.weight = score_weights::sla;
    const auto* stat = fault_ ? find_stat(facts_.phase_stats, "load", "fault") : nullptr;
    if (!stat || stat->count == 0 || !stat->p95) {
      e.measured = "not measured: no load samples in the fault phase";
    } else {
      const auto tier = achieved_tier(stat->availability, *stat->p95);
      e.measured = fmt::format("{} (availability {:.3f}%, p95 {})", to_string(tier), stat->availability * 100,
                               seconds_text(*stat->p95));
      e.measured_value = static_cast<double>(static_cast<int>(tier));
      e.met = static_cast<int>(tier) >= static_cast<int>(*x_.expect.sla);
      e.grade = grade_tier(tier, *x_.expect.sla);
      // Its margins: the fault phase's availability and p95 against the expected tier's bounds.
      auto availability = window_spread(facts_, "load", *fault_, statistic::availability, stat->availability);
      auto p95 = window_spread(facts_, "load", *fault_, statistic::p95, *stat->p95);
      e.margins.push_back(reports::make_margin("availability load/fault", "fraction", stat->availability, target.availability,
                                               reports::bound_kind::at_least, availability, "windows"));
      e.margins.push_back(reports::make_margin("p95 load/fault", "seconds", *stat->p95,
                                               std::chrono::duration<double>(target.p95).count(), reports::bound_kind::at_most, p95,
                                               "windows"));
      if (out_.sla_tier_range && *out_.sla_tier_range != to_string(tier)) e.measured += " (borderline: " + *out_.sla_tier_range + ")";
    }
    out_.expectations.push_back(e);
  }

  void during_fault() {
    for (std::size_t i = 0; i < x_.expect.during_fault.size(); ++i) {
      const auto& r = x_.expect.during_fault[i];
      reports::expectation_record e;
      e.name = fmt::format("during_fault[{}]", i);
      e.description = fmt::format("{} during the fault", r.text);
      e.target = r.stat == statistic::ok ? (r.negated ? "not ok" : "ok")
                                          : fmt::format("{} {}", to_string(r.cmp), format_threshold(r));
      e.weight = score_weights::rule;
      const auto* stat = fault_ ? find_stat(facts_.phase_stats, r.series, "fault") : nullptr;
      if (!stat || !fault_) {
        e.measured = "not measured: no samples of '" + r.series + "' in the fault phase";
        out_.expectations.push_back(e);
        continue;
      }
      auto windows = windows_in(facts_, r.series, *fault_);
      auto ok = holds_over_phase(r, *stat, windows, facts_.window);
      std::optional<double> value = measure(r.stat, *stat);
      if (r.stat == statistic::value) {
        // The worst window: the one furthest on the failing side of the threshold.
        for (const auto* w : windows)
          if (w->value && (!value || holds(r, *w, facts_.window) == false)) value = w->value;
      }
      if (!ok || !value) {
        e.measured = "not measured: no samples of '" + r.series + "' in the fault phase";
      } else {
        e.measured = format_measured(unit_of(r), *value);
        e.measured_value = *value;
        e.met = *ok;
        e.grade = grade_rule(r, *value, *ok);
        if (r.stat != statistic::ok && r.cmp != comparator::equal && r.cmp != comparator::not_equal) {
          const bool at_most = r.cmp == comparator::less || r.cmp == comparator::less_equal;
          // A probe's value is its worst window: no spread to bootstrap.
          auto spread = r.stat == statistic::value ? std::nullopt : window_spread(facts_, r.series, *fault_, r.stat, *value);
          e.margins.push_back(reports::make_margin(fmt::format("{} {}/fault", to_string(r.stat), r.series), margin_unit(unit_of(r)),
                                                   *value, r.threshold, at_most ? reports::bound_kind::at_most : reports::bound_kind::at_least,
                                                   spread, "windows"));
        }
      }
      out_.expectations.push_back(e);
    }
  }

  void breaker() {
    if (!x_.expect.breaker) return;
    const auto& b = *x_.expect.breaker;
    const auto& record = out_.breaker;
    const std::string never = record ? "the breaker never opened" : "no breaker data";
    if (b.opens_within) {
      out_.expectations.push_back(bound_expectation("breaker.opens_within", "the breaker opens after the fault starts",
                                                    record ? record->time_to_open : std::nullopt,
                                                    seconds_of(*b.opens_within), score_weights::breaker, never,
                                                    record ? record->time_to_open_resolution : std::nullopt));
    }
    if (b.closes_within) {
      std::string why = never;
      if (record && record->time_to_open && !record->time_to_close) why = "the breaker did not close again";
      out_.expectations.push_back(bound_expectation("breaker.closes_within", "the breaker closes after the fault ends",
                                                    record ? record->time_to_close : std::nullopt,
                                                    seconds_of(*b.closes_within), score_weights::breaker, why,
                                                    record ? record->time_to_close_resolution : std::nullopt));
    }
    if (b.max_flaps && record) {
      reports::expectation_record e;
      e.name = "breaker.max_flaps";
      e.description = "the breaker does not flap";
      e.target = fmt::format("<= {}", *b.max_flaps);
      e.measured = fmt::format("{}", record->flaps);
      e.measured_value = static_cast<double>(record->flaps);
      e.met = record->flaps <= *b.max_flaps;
      e.grade = e.met ? 1 : static_cast<double>(*b.max_flaps + 1) / static_cast<double>(record->flaps + 1);
      e.weight = score_weights::breaker;
      // A count: exact within the run, no interval.
      e.margins.push_back(reports::make_margin("breaker flaps", "count", static_cast<double>(record->flaps),
                                               static_cast<double>(*b.max_flaps), reports::bound_kind::at_most, std::nullopt, ""));
      out_.expectations.push_back(e);
    }
  }

  void detection_and_recovery() {
    if (x_.expect.mttd_below) {
      auto e = bound_expectation("mttd", "time to detect: fault start to the first moment off steady state", out_.mttd,
                                 seconds_of(*x_.expect.mttd_below), score_weights::mttd, "", out_.mttd_resolution);
      if (!out_.mttd) {
        // The system never left steady state: there was nothing to detect and the fault was absorbed.
        e.measured = "never left steady state";
        e.met = true;
        e.grade = 1;
      }
      out_.expectations.push_back(e);
    }
    if (x_.steady_state.require.empty()) return;
    if (x_.expect.mttr_below) {
      out_.expectations.push_back(bound_expectation(
          "mttr", "time to recover: last revert to the start of a stable stretch of steady state", out_.mttr,
          seconds_of(*x_.expect.mttr_below), score_weights::mttr,
          fmt::format("did not recover within {}", format_duration(x_.timeline.recovery.timeout)), out_.mttr_resolution));
    } else {
      reports::expectation_record e;
      e.name = "recovered";
      e.description = "the steady-state rules hold again after the faults";
      e.target = "within " + format_duration(x_.timeline.recovery.timeout);
      e.met = out_.recovered;
      e.grade = e.met ? 1 : 0;
      e.measured = out_.mttr ? "after " + seconds_text(*out_.mttr) : "not recovered";
      if (out_.mttr) e.measured_value = *out_.mttr;
      e.weight = score_weights::recovered;
      out_.expectations.push_back(e);
    }
  }

  void steady_after() {
    if (x_.steady_state.require.empty()) return;
    const auto* after = find_phase(facts_.phases, "after");
    reports::expectation_record e;
    e.name = "steady_after";
    e.description = "the steady-state rules hold in the after phase";
    e.target = "every window steady";
    e.weight = score_weights::steady_after;
    if (!after) {
      e.measured = "not measured: the run ended before the after phase";
    } else {
      const auto series = windows_by_series(facts_);
      std::size_t total = 0, steady = 0;
      std::optional<std::string> broken;
      for (auto i = static_cast<std::size_t>(std::ceil(after->start / facts_.window - 1e-9));
           static_cast<double>(i + 1) * facts_.window <= after->end + 1e-9; ++i) {
        ++total;
        if (auto b = first_broken_rule(x_.steady_state.require, series, i, facts_.window)) {
          if (!broken) broken = *b;
        } else {
          ++steady;
        }
      }
      e.measured_value = total ? static_cast<double>(steady) / static_cast<double>(total) : 0;
      e.measured = total == 0 ? "no complete window" : fmt::format("{} of {} windows steady", steady, total);
      if (broken) e.measured += fmt::format(" (\"{}\" broke)", *broken);
      e.met = total > 0 && steady == total;
      e.grade = e.measured_value.value_or(0);
    }
    out_.expectations.push_back(e);
  }

  void faults_took_effect() {
    for (const auto& f : facts_.faults) {
      if (!f.injected_at) continue;
      if (f.action) {
        action_succeeded(f);
        continue;
      }
      reports::expectation_record e;
      e.name = "effect:" + f.step;
      e.description = fmt::format("fault '{}' ({} on {}) took effect", f.step, f.type, f.target);
      e.target = "observed";
      e.met = f.evidence.observed;
      e.grade = e.met ? 1 : 0;
      e.measured = f.evidence.observed ? "observed: " + f.evidence.summary
                                       : "requested but no effect observed" +
                                             (f.evidence.summary.empty() ? "" : ": " + f.evidence.summary);
      e.weight = 0;  // decides the verdict, not the score
      out_.expectations.push_back(e);
    }
  }

  // A runbook step that failed (exit code, timeout, signal) fails the run like a fault without effect.
  void action_succeeded(const reports::fault_record& f) {
    reports::expectation_record e;
    e.name = "action:" + f.step;
    e.description = fmt::format("action '{}' ({}) succeeded", f.step, f.type);
    e.target = "succeeded";
    e.met = f.error.empty() && f.evidence.observed;
    e.grade = e.met ? 1 : 0;
    e.measured = !f.error.empty() ? "failed: " + f.error : f.evidence.summary;
    e.weight = 0;  // decides the verdict, not the score
    out_.expectations.push_back(e);
  }

  void score() {
    out_.score = resilience_score(out_.expectations);
    if (!x_.expect.score_at_least) return;
    reports::expectation_record e;
    e.name = "score";
    e.description = "resilience score";
    e.target = fmt::format(">= {:g}", *x_.expect.score_at_least);
    e.measured = fmt::format("{:.1f}", out_.score);
    e.measured_value = out_.score;
    e.met = out_.score >= *x_.expect.score_at_least;
    e.grade = grade_at_least(out_.score, *x_.expect.score_at_least);
    e.weight = 0;
    // One run's score has no spread of its own; --repeat gives one across runs.
    e.margins.push_back(reports::make_margin("score", "score", out_.score, *x_.expect.score_at_least, reports::bound_kind::at_least,
                                             std::nullopt, ""));
    out_.expectations.push_back(e);
  }

private:
  const experiment& x_;
  const run_facts& facts_;
  reports::analysis_record& out_;
  const reports::phase_span* fault_;
};

}  // namespace

std::string measured_text(statistic stat, double v) { return format_measured(unit_of(stat), v); }

const reports::phase_span* find_phase(const std::vector<reports::phase_span>& phases, const std::string& name) {
  for (const auto& p : phases)
    if (p.name == name) return &p;
  return nullptr;
}

void add_degradation(std::vector<reports::phase_stat>& stats) {
  for (auto& s : stats) {
    const auto* base = find_stat(stats, s.series, "baseline");
    if (!base || base == &s || base->count == 0 || s.count == 0) continue;
    if (s.p95 && base->p95 && *base->p95 > 0) s.p95_ratio = *s.p95 / *base->p95;
    s.error_rate_delta = s.error_rate - base->error_rate;
  }
}

reports::analysis_record analyse(const experiment& x, const run_facts& facts) {
  reports::analysis_record out;
  out.phase_stats = facts.phase_stats;
  add_degradation(out.phase_stats);

  const auto* fault = find_phase(facts.phases, "fault");
  const auto& rules = x.steady_state.require;
  if (fault && !rules.empty()) {
    double data_end = 0;
    for (const auto& p : facts.phases) data_end = std::max(data_end, p.end);
    const auto steady = steady_truth(rules, facts.samples, facts.window);
    if (auto d = mttd(steady, fault->start, fault->end)) {
      out.mttd = d->seconds;
      out.mttd_resolution = d->resolution;
    }
    if (auto r = mttr(steady, fault->end, seconds_of(x.timeline.recovery.stable_for),
                      seconds_of(x.timeline.recovery.timeout), data_end)) {
      out.mttr = r->seconds;
      out.mttr_resolution = r->resolution;
    }
    out.recovered = out.mttr.has_value();
  }

  if (fault) {
    if (const auto* stat = find_stat(out.phase_stats, "load", "fault"); stat && stat->count > 0 && stat->p95) {
      out.sla_tier = to_string(achieved_tier(stat->availability, *stat->p95));
      auto availability = window_spread(facts, "load", *fault, statistic::availability, stat->availability);
      auto p95 = window_spread(facts, "load", *fault, statistic::p95, *stat->p95);
      out.sla_tier_range = reports::tier_range_between(sla_tier_bounds(),
                                                       availability.value_or(reports::stats::interval{stat->availability, stat->availability}),
                                                       p95.value_or(reports::stats::interval{*stat->p95, *stat->p95}))
                               .text();
    } else
      out.sla_tier = "none";
    const double fast_failure = seconds_of(x.settings.fast_failure);
    const auto load = facts.samples.find("load");
    const bool has_load = load != facts.samples.end();
    const std::string probe = x.expect.breaker ? x.expect.breaker->probe : std::string();
    if (auto it = facts.samples.find(probe); !probe.empty() && it != facts.samples.end()) {
      const auto seen = transitions_from_probe(it->second);
      const auto events = has_load ? refine_with_load(seen, load->second, fast_failure) : seen;
      out.breaker = summarize_breaker(events, fault->start, fault->end, "probe:" + probe);
      if (has_load) out.breaker->cross_check = cross_check(seen, transitions_inferred(load->second, fast_failure));
    } else if (has_load) {
      out.breaker = summarize_breaker(transitions_inferred(load->second, fast_failure), fault->start, fault->end,
                                      "inferred");
    }
  } else {
    out.sla_tier = "none";
  }

  expectation_builder build(x, facts, out);
  build.sla();
  build.during_fault();
  build.breaker();
  // Levels and capacity runs have no recovery and no after phase: they are judged on their own.
  const bool load_test = !x.levels.empty() || x.is_capacity_run();
  if (!load_test) {
    build.detection_and_recovery();
    build.steady_after();
  }
  out.levels = level_records(x, facts);
  out.capacity = facts.capacity;
  add_load_test_expectations(x, out);
  build.faults_took_effect();
  build.score();
  return out;
}

run_facts facts_of(const reports::journal& j) {
  run_facts facts;
  facts.window = j.window;
  facts.phases = j.phases;
  facts.faults = j.faults;
  facts.series = j.series;
  facts.phase_stats = j.analysis.phase_stats;
  try {
    const probes::timeline t(j.timeline);
    if (!t.samples_complete())
      throw reports::journal_error(
          "the journal has no complete sample log (schema version 1, or more samples than the log holds): its "
          "numbers can be rendered but not computed again");
    for (const auto& name : t.series_names()) facts.samples.emplace(name, t.samples(name));
  } catch (const std::invalid_argument& e) {
    throw reports::journal_error(fmt::format("field 'timeline': {}", e.what()));
  }
  return facts;
}

void reanalyse(reports::journal& j, const experiment& x) {
  auto facts = facts_of(j);
  j.analysis = analyse(x, facts);
  if (j.verdict.result == "passed" || j.verdict.result == "failed") j.verdict = decide(facts, j.analysis);
}

reports::verdict_record decide(const run_facts& facts, const reports::analysis_record& analysis) {
  if (!facts.error.empty()) return {"error", facts.error_exit, facts.error};
  if (facts.aborted) return {"aborted", 3, facts.abort_reason};
  if (facts.steady_before_failed)
    return {"not_steady", 1, "steady state not met before the faults (" + facts.steady_before_reason +
                                 "); nothing was injected"};
  if (auto level = first_missed_level(analysis)) return {"failed", 1, *level};
  std::vector<std::string> missed;
  for (const auto& e : analysis.expectations)
    if (!e.met) missed.push_back(fmt::format("{} (measured {}, target {})", e.name, e.measured, e.target));
  if (missed.empty())
    return {"passed", 0, fmt::format("all {} expectations met; score {:.1f}", analysis.expectations.size(), analysis.score)};
  std::string list;
  for (const auto& m : missed) list += (list.empty() ? "" : "; ") + m;
  return {"failed", 1, fmt::format("{} of {} expectations missed: {}", missed.size(), analysis.expectations.size(), list)};
}

}  // namespace faultline::engine
