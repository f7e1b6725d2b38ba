#include "engine/metrics/run_metrics.hpp"

#include "engine/analysis/breaker.hpp"
#include "engine/analysis/rule_eval.hpp"
#include "probes/resource_quantity.hpp"
#include "reports/windows.hpp"

#include "faultline_version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace faultline::engine {
namespace {

namespace prom = faultline::prometheus;
using prom::metric_type;
using std::chrono::nanoseconds;

double seconds_of(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void run_metrics::series_state::add(const probes::window& w) {
  for (std::size_t i = 0; i < probes::outcome_count; ++i) outcomes[i] += w.outcomes[i];
  late += w.late;
  latency.add(w.latency);
  if (w.value.count && (!last_value || w.value.last_at >= last_value->first)) last_value = {w.value.last_at, w.value.last};
}

run_metrics::run_metrics(const experiment& x, std::string run_id, const probes::probe_registry& probe_types,
                         nanoseconds settle)
    : x_(x), run_id_(std::move(run_id)), probe_types_(probe_types), settle_(settle) {}

prom::labels run_metrics::with_experiment(prom::labels more) const {
  more.insert(more.begin(), {"experiment", x_.name});
  return more;
}

void run_metrics::fold(const probes::timeline& t, std::int64_t final_windows) {
  const auto width = t.options().window;
  const double width_s = seconds_of(width);
  const bool everything = final_windows == std::numeric_limits<std::int64_t>::max();
  for (const auto& name : t.series_names()) {
    auto& s = folded_[name];
    if (final_windows <= s.folded) continue;
    const probes::time_range range{s.folded * width, everything ? nanoseconds::max() : final_windows * width};
    const auto windows = t.windows(name, range);
    for (const auto& w : windows) {
      s.add(w);
      s.points.push_back(reports::to_point(w, width_s));
    }
    if (everything) {
      s.folded = static_cast<std::int64_t>(s.points.size());
      continue;
    }
    // Final windows without samples (yet): empty points keep every series on one grid.
    while (static_cast<std::int64_t>(s.points.size()) < final_windows) {
      reports::window_point empty;
      empty.start = static_cast<double>(s.points.size()) * width_s;
      s.points.push_back(empty);
    }
    s.folded = final_windows;
  }
}

std::map<std::string, run_metrics::series_state> run_metrics::current(const probes::timeline& t) const {
  auto all = folded_;
  const auto width = t.options().window;
  for (auto& [name, s] : all)
    for (const auto& w : t.windows(name, probes::time_range{s.folded * width, nanoseconds::max()})) s.add(w);
  return all;
}

prom::exposition run_metrics::live(const run_status& s, const probes::timeline& t, nanoseconds now) {
  if (!start_time_) {
    const auto age = std::chrono::steady_clock::now() - t.start();
    start_time_ = seconds_of(std::chrono::system_clock::now().time_since_epoch() - age);
  }
  const auto width = t.options().window;
  const std::int64_t final_windows = now < settle_ + width ? 0 : (now - settle_) / width;
  fold(t, final_windows);
  const auto all = current(t);
  prom::exposition out;
  write_run(out, s);
  write_series(out, all);
  write_judgement(out, all, t);
  return out;
}

prom::exposition run_metrics::final(const run_status& s, const probes::timeline* t, const reports::journal& j) {
  prom::exposition out;
  write_run(out, s);
  if (t) {
    folded_.clear();
    fold(*t, std::numeric_limits<std::int64_t>::max());
    write_series(out, folded_);
    write_judgement(out, folded_, *t);
  }
  write_result(out, j);
  return out;
}

void run_metrics::write_run(prom::exposition& out, const run_status& s) const {
  out.add("faultline_run_info", metric_type::gauge, "The run: always 1, with the experiment, run id and faultline version")
      .add(with_experiment({{"run_id", run_id_}, {"version", faultline::version}}), 1);
  if (start_time_)
    out.add("faultline_run_start_time_seconds", metric_type::gauge,
            "When the run's sampling began (the journal's time 0), in seconds since the Unix epoch")
        .add(with_experiment(), *start_time_);
  auto& phase = out.add("faultline_run_phase", metric_type::gauge, "1 for the phase under way, 0 for the others");
  for (auto p : s.phases) phase.add(with_experiment({{"phase", std::string(p)}}), p == s.phase ? 1 : 0);
  if (!s.levels.empty()) {
    auto& level = out.add("faultline_run_level", metric_type::gauge, "A levels run: 1 for the level under way, 0 for the others");
    for (std::size_t i = 0; i < s.levels.size(); ++i) level.add(with_experiment({{"level", s.levels[i]}}), s.level == i ? 1 : 0);
  }
  for (const auto& search : s.searches) {
    out.add("faultline_capacity_trials_total", metric_type::counter, "A capacity run: trials started, per search")
        .add(with_experiment({{"search", search.search}}), search.trials);
    out.add("faultline_capacity_trial_rate", metric_type::gauge,
            "A capacity run: the arrival rate of the search's trial under way (or its last), requests per second")
        .add(with_experiment({{"search", search.search}}), search.rate);
  }
  auto& active = out.add("faultline_fault_active", metric_type::gauge, "1 while the step's fault is injected, else 0");
  for (const auto& step : s.steps)
    active.add(with_experiment({{"step", step.name}, {"type", step.type}, {"target", step.target}}), step.active ? 1 : 0);
}

void run_metrics::write_series(prom::exposition& out, const std::map<std::string, series_state>& all) const {
  auto& requests = out.add("faultline_requests_total", metric_type::counter,
                           "Requests of the load and checks of each probe, by series and outcome");
  auto& late = out.add("faultline_requests_late_total", metric_type::counter,
                       "Requests and checks that started more than 1ms later than intended");
  auto& latency = out.add("faultline_request_duration_seconds", metric_type::histogram,
                          "Latency from the intended start (no coordinated omission), fixed buckets");
  auto& values = out.add("faultline_probe_value", metric_type::gauge, "The value a probe extracted last (metric, JSON, command)");
  for (const auto& [name, s] : all) {
    if (auto q = probes::split_quantity_series(name)) {
      const auto* p = x_.find_probe(q->probe);
      const auto* type = p ? probe_types_.find(p->type) : nullptr;
      const auto* declared = type ? probes::find_quantity(type->quantities, q->what->name) : nullptr;
      if (!declared || declared->metric.empty() || !s.last_value) continue;
      prom::labels l{{"probe", std::string(q->probe)}};
      if (!declared->label_name.empty()) l.push_back({std::string(declared->label_name), std::string(declared->label_value)});
      out.add(std::string(declared->metric), declared->counter ? metric_type::counter : metric_type::gauge,
              std::string(probes::family_help(*declared)))
          .add(with_experiment(std::move(l)), s.last_value->second);
      continue;
    }
    for (std::size_t i = 0; i < probes::outcome_count; ++i)
      requests.add(with_experiment({{"series", name}, {"outcome", std::string(probes::to_string(static_cast<probes::outcome>(i)))}}),
                   static_cast<double>(s.outcomes[i]));
    late.add(with_experiment({{"series", name}}), static_cast<double>(s.late));
    latency.add(with_experiment({{"series", name}}), s.latency);
    if (name != "load" && s.last_value) values.add(with_experiment({{"probe", name}}), s.last_value->second);
  }
}

void run_metrics::write_judgement(prom::exposition& out, const std::map<std::string, series_state>& all,
                                  const probes::timeline& t) const {
  const double width = seconds_of(x_.settings.window);
  if (const auto& b = x_.expect.breaker) {
    std::optional<breaker_state> state;
    std::string source;
    if (!b->probe.empty()) {
      source = "probe:" + b->probe;
      if (auto it = all.find(b->probe); it != all.end() && it->second.last_value) {
        const double v = it->second.last_value->second;
        if (v == 0) state = breaker_state::closed;
        if (v == 1) state = breaker_state::open;
        if (v == 2) state = breaker_state::half_open;
      }
    } else if (auto it = all.find("load"); it != all.end() && !it->second.points.empty()) {
      // The analysis's own inference over the load's samples so far: its latest transition.
      source = "inferred";
      const auto events = transitions_inferred(t.samples("load"), seconds_of(x_.settings.fast_failure));
      state = events.empty() ? breaker_state::closed : events.back().to;
    }
    if (state)
      out.add("faultline_breaker_state", metric_type::gauge, "The circuit breaker: 0 closed, 1 open, 2 half-open")
          .add(with_experiment({{"source", source}}), static_cast<double>(static_cast<int>(*state)));
  }
  const auto& rules = x_.steady_state.require;
  if (rules.empty()) return;
  auto& each = out.add("faultline_rule_holds", metric_type::gauge,
                       "1 when the steady-state rule holds in the latest complete window, 0 when it does not");
  bool any = false, steady = true;
  for (const auto& r : rules) {
    auto it = all.find(r.series);
    std::optional<bool> h;
    if (it != all.end() && !it->second.points.empty()) h = holds(r, it->second.points.back(), width);
    if (h) {
      each.add(with_experiment({{"rule", r.text}}), *h ? 1 : 0);
      any = true;
    }
    steady = steady && h.value_or(false);
  }
  if (any)
    out.add("faultline_steady_state_holds", metric_type::gauge,
            "1 when every steady-state rule holds in the latest complete window, else 0")
        .add(with_experiment(), steady ? 1 : 0);
}

void run_metrics::write_result(prom::exposition& out, const reports::journal& j) const {
  const auto& a = j.analysis;
  out.add("faultline_run_score", metric_type::gauge, "The resilience score, 0 to 100 (docs/analysis.md)").add(with_experiment(), a.score);
  double tier = 0;
  for (auto t : {sla_tier::bronze, sla_tier::silver, sla_tier::gold, sla_tier::platinum})
    if (a.sla_tier == to_string(t)) tier = static_cast<double>(static_cast<int>(t));
  out.add("faultline_run_sla_tier", metric_type::gauge, "The SLA tier achieved in the fault phase: 0 none, 1 bronze .. 4 platinum")
      .add(with_experiment({{"tier", a.sla_tier.empty() ? std::string("none") : a.sla_tier}}), tier);
  out.add("faultline_run_verdict", metric_type::gauge, "1, with the verdict: passed, failed, aborted, not_steady or error")
      .add(with_experiment({{"result", j.verdict.result}}), 1);
  out.add("faultline_run_exit_code", metric_type::gauge, "The run's exit code: 0 passed, 1 expectation missed, 2 invalid, 3 aborted, 4 internal")
      .add(with_experiment(), j.verdict.exit_code);
  if (a.mttd)
    out.add("faultline_run_mttd_seconds", metric_type::gauge, "Time to detect: fault start to the first broken steady-state window")
        .add(with_experiment(), *a.mttd);
  if (a.mttr)
    out.add("faultline_run_mttr_seconds", metric_type::gauge, "Time to recover: last revert to steady again")
        .add(with_experiment(), *a.mttr);
  if (!a.expectations.empty()) {
    auto& met = out.add("faultline_run_expectation_met", metric_type::gauge, "1 when the expectation was met, else 0");
    for (const auto& e : a.expectations) met.add(with_experiment({{"expectation", e.name}}), e.met ? 1 : 0);
  }
}

}  // namespace faultline::engine
