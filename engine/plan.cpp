#include "engine/plan.hpp"

#include "core/params.hpp"
#include "core/units.hpp"
#include "faults/fault.hpp"
#include "probes/load_generator.hpp"
#include "probes/probe.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace faultline::engine {
namespace {

std::string describe_requests(const load_spec& load) {
  const auto& c = *load.config;
  if (!c.named_requests()) return fmt::format("{} {}", load.parameters.text("method"), load.parameters.text("url"));
  std::string out;
  double total = 0;
  for (const auto& r : c.requests) total += r.weight;
  for (const auto& r : c.requests) {
    std::string part = r.name;
    if (c.journey && r.repeat > 1) part += fmt::format(" x{}", r.repeat);
    if (!c.journey) part += fmt::format(" {}%", format_number(100 * r.weight / total, 1));
    out += (out.empty() ? "" : c.journey ? " -> " : ", ") + part;
  }
  return fmt::format("{} ({}) on {}", c.journey ? "journey" : "mix", out, c.url.authority());
}

std::string describe_load(const experiment& x) {
  const auto& load = *x.load;
  if (x.is_capacity_run()) return describe_requests(load) + " at the rates of the capacity search";
  std::string shape;
  for (const auto& s : load.shape) {
    std::string part;
    if (s.kind == probes::load_stage::model::closed) part = fmt::format("{} users", s.users);
    else if (s.rate_from == s.rate_to) part = format_rate(s.rate_from);
    else part = fmt::format("{} -> {}", format_rate(s.rate_from), format_rate(s.rate_to));
    if (s.duration.count() > 0) part += " for " + format_duration(s.duration);
    shape += (shape.empty() ? "" : ", ") + part;
  }
  return fmt::format("{} at {}", describe_requests(load), shape);
}

std::string describe_rules(const std::vector<rule>& rules) {
  std::string out;
  for (const auto& r : rules) out += (out.empty() ? "" : ", ") + r.text;
  return out;
}

std::string describe_step_end(const step& s) {
  switch (s.end) {
    case step_end::after_duration: return fmt::format("for {}", format_duration(*s.duration));
    case step_end::recovered:
      return fmt::format("until the system recovers (at most {})", format_duration(*s.duration));
    case step_end::manual:
      return s.duration ? fmt::format("until ended by the operator (at most {})", format_duration(*s.duration))
                        : "until ended by the operator";
    case step_end::after_step: return fmt::format("until step '{}' ends", s.until_step);
  }
  return {};
}

std::string describe_step(const step& s) {
  const std::string details = format_params(s.fault_type->params, s.parameters);
  std::string what = s.target.empty() ? s.type : fmt::format("{} on {}", s.type, s.target);
  if (!details.empty()) what += fmt::format(" ({})", details);
  if (s.fault_type->destructive) what += " DESTRUCTIVE: destroys data";
  return what;
}

std::vector<std::string> describe_expectations(const experiment& x) {
  std::vector<std::string> out;
  const auto& e = x.expect;
  if (e.sla) {
    auto t = sla_target_of(*e.sla);
    out.push_back(fmt::format("SLA {} (availability >= {}, p95 <= {}) during the fault", to_string(*e.sla),
                              format_fraction(t.availability), format_duration(t.p95)));
  }
  for (const auto& r : e.during_fault) out.push_back(fmt::format("during the fault: {}", r.text));
  if (e.breaker) {
    std::string b = "breaker";
    if (e.breaker->opens_within) b += " opens within " + format_duration(*e.breaker->opens_within);
    if (e.breaker->closes_within) b += std::string(e.breaker->opens_within ? "," : "") + " closes within " + format_duration(*e.breaker->closes_within);
    if (e.breaker->max_flaps) b += fmt::format(", at most {} flaps", *e.breaker->max_flaps);
    if (!e.breaker->probe.empty()) b += fmt::format(" (state from probe '{}')", e.breaker->probe);
    out.push_back(b);
  }
  if (e.mttd_below) out.push_back("MTTD below " + format_duration(*e.mttd_below));
  if (e.mttr_below) out.push_back("MTTR below " + format_duration(*e.mttr_below));
  if (e.capacity && e.capacity->at_least) out.push_back("capacity at least " + format_rate(*e.capacity->at_least));
  if (e.capacity && e.capacity->under_fault_at_least)
    out.push_back("capacity under the faults at least " + format_rate(*e.capacity->under_fault_at_least));
  for (const auto& l : x.levels) out.push_back(fmt::format("level {}: {}", l.name, describe_rules(l.require)));
  if (e.score_at_least) out.push_back(fmt::format("resilience score at least {:g}", *e.score_at_least));
  return out;
}

// The levels one after the other, or the capacity searches (healthy, then under the faults).
template <typename Line>
void render_load_test(const experiment& x, const Line& line) {
  nanoseconds at{};
  for (const auto& l : x.levels) {
    line("t=" + format_duration(at), "level",
         fmt::format("{}: {} for {}{}", l.name,
                     l.stage.kind == probes::load_stage::model::closed ? fmt::format("{} users", l.stage.users)
                                                                        : format_rate(l.stage.rate_from),
                     format_duration(l.stage.duration), l.require.empty() ? "" : "; require " + describe_rules(l.require)));
    at += l.stage.duration;
  }
  if (!x.is_capacity_run()) return;
  const auto& c = x.capacity;
  const auto search = fmt::format("from {} (x{:g} up to {}, then bisect to {}), {} trials judged after {}, at most {}; rules: {}",
                                  format_rate(c.from), c.factor, format_rate(c.up_to), format_fraction(c.precision),
                                  format_duration(c.trial), format_duration(c.warmup), format_duration(c.time_limit),
                                  describe_rules(c.require.empty() ? x.steady_state.require : c.require));
  line("first", "capacity", "healthy: " + search);
  bool faults = false;
  for (const auto& s : x.timeline.steps) {
    if (s.is_action) continue;
    faults = true;
    line("then", "inject", fmt::format("{} [{}] held for the second search", describe_step(s), s.name));
  }
  if (!faults) return;
  line("then", "capacity", "under the faults: the same search");
  line("then", "revert", "every fault");
}

}  // namespace

std::string describe_summary(const experiment& x) {
  if (!x.levels.empty() || x.is_capacity_run()) {
    nanoseconds total{};
    for (const auto& l : x.levels) total += l.stage.duration;
    const auto expectations = describe_expectations(x).size();
    return fmt::format("{}: {} | load {} | {} expectation{}", x.name,
                       x.levels.empty() ? "capacity search" : fmt::format("{} levels over {}", x.levels.size(), format_duration(total)),
                       x.load ? describe_load(x) : "none", expectations, expectations == 1 ? "" : "s");
  }
  std::size_t faults = 0, actions = 0;
  for (const auto& s : x.timeline.steps) (s.is_action ? actions : faults)++;
  auto expectations = describe_expectations(x).size();
  return fmt::format("{}: baseline {}, faults {}, recovery up to {} | {} fault{}, {} action{}, {} probe{}{} | {} expectation{}",
                     x.name, format_duration(x.timeline.baseline), format_duration(x.planned_fault_phase()),
                     format_duration(x.timeline.recovery.timeout), faults, faults == 1 ? "" : "s", actions,
                     actions == 1 ? "" : "s", x.probes.size(), x.probes.size() == 1 ? "" : "s",
                     x.load ? ", load " + describe_load(x) : "", expectations, expectations == 1 ? "" : "s");
}

std::string render_plan(const experiment& x) {
  std::string out = fmt::format("plan for '{}' ({})\n", x.name, x.file.string());
  if (!x.description.empty()) out += fmt::format("  {}\n", x.description);
  const auto line = [&](const std::string& when, const std::string& what, const std::string& detail) {
    out += fmt::format("  {:<10} {:<12} {}\n", when, what, detail);
  };

  for (const auto& p : x.proxies)
    line("setup", "proxy", fmt::format("{}: {} -> {} ({})", p.name, p.listen.to_string(), p.upstream.to_string(), p.protocol));
  if (x.load) line("setup", "load", describe_load(x));
  for (const auto& p : x.probes) {
    line("setup", "probe", fmt::format("{}: {} every {}, timeout {}", p.name, p.type,
                                       format_duration(p.parameters.duration("every")),
                                       format_duration(p.parameters.duration("timeout"))));
  }
  line("preflight", "check", "listen ports free, upstreams and probes reachable, nothing left by a killed run");
  if (!x.steady_state.require.empty())
    line("before", "steady state", fmt::format("must hold for {}: {}", format_duration(x.steady_state.hold_for),
                                               describe_rules(x.steady_state.require)));

  if (!x.levels.empty() || x.is_capacity_run()) {
    render_load_test(x, line);
    for (const auto& r : x.abort_when) line("always", "abort when", r.text);
    for (const auto& e : describe_expectations(x)) line("verdict", "expect", e);
    out += "  dry run: nothing was started, injected or changed\n";
    return out;
  }
  const auto t0 = x.timeline.baseline;
  line("t=0s", "baseline", fmt::format("{} of normal operation", format_duration(x.timeline.baseline)));

  struct event {
    nanoseconds at;
    int order;  // reverts before injects at the same instant
    std::string what;
    std::string detail;
  };
  std::vector<event> events;
  for (const auto& s : x.timeline.steps) {
    const auto at = t0 + s.at;
    if (s.is_action) {
      events.push_back({at, 1, "action", fmt::format("{} [{}]", describe_step(s), s.name)});
      continue;
    }
    events.push_back({at, 1, "inject", fmt::format("{} [{}] {}", describe_step(s), s.name, describe_step_end(s))});
    if (s.end == step_end::after_duration)
      events.push_back({at + *s.duration, 0, "revert", fmt::format("{} [{}]", s.type, s.name)});
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const event& a, const event& b) { return std::tie(a.at, a.order) < std::tie(b.at, b.order); });
  for (const auto& e : events) line("t=" + format_duration(e.at), e.what, e.detail);

  const auto fault_end = t0 + x.planned_fault_phase();
  line("t=" + format_duration(fault_end), "recovery",
       fmt::format("until the steady-state rules hold for {} (at most {})", format_duration(x.timeline.recovery.stable_for),
                   format_duration(x.timeline.recovery.timeout)));
  if (!x.steady_state.require.empty())
    line("after", "steady state", fmt::format("must hold again for {}", format_duration(x.steady_state.hold_for)));
  for (const auto& r : x.abort_when) line("always", "abort when", r.text);
  for (const auto& e : describe_expectations(x)) line("verdict", "expect", e);
  out += "  dry run: nothing was started, injected or changed\n";
  return out;
}

}  // namespace faultline::engine
