#include "engine/analysis/analysis.hpp"
#include "engine/analysis/breaker.hpp"
#include "engine/analysis/recovery_times.hpp"
#include "engine/analysis/scoring.hpp"
#include "engine/loader.hpp"
#include "tests/support/test_catalogue.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using namespace faultline::engine;
using namespace std::chrono_literals;

namespace {

// A synthetic timeline: 1 s windows of load at 100 requests per window.
struct synthetic {
  std::vector<reports::window_point> load;

  explicit synthetic(std::size_t windows) {
    for (std::size_t i = 0; i < windows; ++i) {
      reports::window_point w;
      w.start = static_cast<double>(i);
      w.count = 100;
      w.p50 = 0.02;
      w.p95 = w.p99 = w.max = 0.05;
      w.min = w.mean = w.p75 = w.p90 = w.p999 = 0.03;
      load.push_back(w);
    }
  }
  synthetic& slow(std::size_t from, std::size_t to, double p95) {
    for (auto i = from; i <= to; ++i) load[i].p95 = load[i].p99 = load[i].max = p95;
    return *this;
  }
  synthetic& errors(std::size_t from, std::size_t to, std::uint64_t errors, std::uint64_t fast) {
    for (auto i = from; i <= to; ++i) load[i].errors = errors, load[i].fast_failures = fast;
    return *this;
  }
  series_windows series() const { return {{"load", load}}; }
};

std::vector<rule> rules(std::initializer_list<const char*> texts) {
  std::vector<rule> out;
  for (auto t : texts) out.push_back(parse_rule(t));
  return out;
}

std::vector<reports::window_point> values(std::initializer_list<std::pair<std::size_t, double>> changes, std::size_t n) {
  std::vector<reports::window_point> out(n);
  double v = 0;
  auto it = changes.begin();
  for (std::size_t i = 0; i < n; ++i) {
    while (it != changes.end() && it->first == i) v = (it++)->second;
    out[i].start = static_cast<double>(i);
    out[i].count = 2;
    out[i].value = v;
  }
  return out;
}

}  // namespace

TEST_CASE("MTTD and MTTR against the steady-state rules", "[engine]") {
  // Fault from 10 s to 20 s; latency breaks the rule in windows 12..20.
  auto t = synthetic(40).slow(12, 20, 0.8);
  auto r = rules({"load.p95 < 200ms"});
  CHECK(mttd(r, t.series(), 1.0, 10.0, 20.0) == Approx(2.0));
  // Stable for 3 windows from window 21: recovered 1 s after the revert.
  CHECK(mttr(r, t.series(), 1.0, 20.0, 3, 60.0) == Approx(1.0));
  // A blip at 23 restarts the stable run: windows 24, 25, 26.
  t.slow(23, 23, 0.5);
  CHECK(mttr(r, t.series(), 1.0, 20.0, 3, 60.0) == Approx(4.0));
  // Not recovered within the timeout.
  CHECK_FALSE(mttr(r, t.series(), 1.0, 20.0, 3, 3.0));
  // A revert a little after a window boundary still counts that window.
  auto u = synthetic(30).slow(12, 19, 0.8);
  CHECK(mttr(r, u.series(), 1.0, 20.05, 3, 60.0) == Approx(0.0));
  // Never left steady state: nothing to detect.
  CHECK_FALSE(mttd(r, synthetic(30).series(), 1.0, 10.0, 20.0));
  // A window without samples is not steady (a stalled system).
  auto stalled = synthetic(30);
  stalled.load[15].count = 0;
  stalled.load[15].p95.reset();
  CHECK(mttd(r, stalled.series(), 1.0, 10.0, 20.0) == Approx(5.0));
}

TEST_CASE("breaker times and flaps from a state probe", "[engine]") {
  auto probe = values({{13, 1}, {23, 2}, {24, 0}}, 40);
  auto record = summarize_breaker(states_from_probe(probe), 1.0, 10.0, 20.0, "probe:breaker");
  REQUIRE(record.time_to_open);
  CHECK(*record.time_to_open == Approx(3.0));
  REQUIRE(record.time_to_close);
  CHECK(*record.time_to_close == Approx(4.0));
  CHECK(record.flaps == 0);
  REQUIRE(record.transitions.size() == 3);
  CHECK(record.transitions[1].from == "open");
  CHECK(record.transitions[1].to == "half_open");

  auto flapping = values({{12, 1}, {15, 0}, {16, 1}, {18, 0}, {19, 1}, {25, 0}}, 40);
  auto f = summarize_breaker(states_from_probe(flapping), 1.0, 10.0, 20.0, "probe:breaker");
  CHECK(f.flaps == 2);
  CHECK(*f.time_to_open == Approx(2.0));
  CHECK(*f.time_to_close == Approx(5.0));  // the close after the last opening

  auto never = summarize_breaker(states_from_probe(values({}, 40)), 1.0, 10.0, 20.0, "probe:breaker");
  CHECK_FALSE(never.time_to_open);
  CHECK_FALSE(never.time_to_close);
}

TEST_CASE("breaker states inferred from the load's responses", "[engine]") {
  auto t = synthetic(30);
  t.errors(11, 12, 40, 0);   // slow failures (timeouts) first
  t.errors(13, 18, 90, 90);  // then fast rejections dominate: open
  t.errors(19, 19, 30, 20);  // trial traffic: half-open
  t.errors(20, 20, 60, 60);  // rejected again: open
  t.errors(21, 21, 10, 5);   // trials again
  // window 22 on: healthy, nothing rejected: closed
  auto states = states_inferred(t.load);
  CHECK(states[12] == breaker_state::closed);
  CHECK(states[13] == breaker_state::open);
  CHECK(states[19] == breaker_state::half_open);
  CHECK(states[20] == breaker_state::open);
  CHECK(states[21] == breaker_state::half_open);
  CHECK(states[22] == breaker_state::closed);
  auto record = summarize_breaker(states, 1.0, 10.0, 20.0, "inferred");
  CHECK(*record.time_to_open == Approx(3.0));
  CHECK(*record.time_to_close == Approx(2.0));

  // Fast failures without slow ones first (a dependency refusing at once) are not a breaker.
  auto refused = synthetic(20).errors(5, 10, 100, 100);
  auto r = states_inferred(refused.load);
  CHECK(std::all_of(r.begin(), r.end(), [](breaker_state s) { return s == breaker_state::closed; }));
}

TEST_CASE("SLA tiers and grades", "[engine]") {
  CHECK(achieved_tier(0.9996, 0.09) == sla_tier::platinum);
  CHECK(achieved_tier(0.9992, 0.15) == sla_tier::gold);
  CHECK(achieved_tier(0.9999, 0.30) == sla_tier::silver);  // p95 decides
  CHECK(achieved_tier(0.992, 0.05) == sla_tier::bronze);    // availability decides
  CHECK(achieved_tier(0.98, 0.05) == sla_tier::none);

  CHECK(grade_at_most(5, 10) == 1);
  CHECK(grade_at_most(15, 10) == Approx(0.5));
  CHECK(grade_at_most(25, 10) == 0);
  CHECK(grade_at_least(75, 100) == Approx(0.75));
  CHECK(grade_availability(0.9985, 0.999) == Approx(0.5));  // 1.5x the error budget
  CHECK(grade_tier(sla_tier::silver, sla_tier::gold) == Approx(2.0 / 3.0));

  std::vector<reports::expectation_record> e(3);
  e[0].weight = 3, e[0].grade = 1;
  e[1].weight = 1, e[1].grade = 0.5;
  e[2].weight = 0, e[2].grade = 0;  // verdict only
  CHECK(resilience_score(e) == Approx(100.0 * 3.5 / 4.0));
}

TEST_CASE("a whole analysis with a known answer", "[engine]") {
  const std::string yaml = R"yaml(version: 1
name: known
proxies:
  db: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
load:
  http: { url: http://127.0.0.1:8080/, rate: 100/s }
probes:
  breaker: { metric: { url: http://127.0.0.1:8080/metrics, series: state } }
steady_state:
  for: 3s
  require: [ "load.p95 < 200ms" ]
timeline:
  baseline: 5s
  steps:
    - { at: 0s, for: 10s, fault: latency, target: db, latency: 800ms }
  recovery: { timeout: 30s, stable_for: 3s }
expect:
  sla: silver
  during_fault: [ "load.error_rate < 5%" ]
  breaker: { opens_within: 5s, closes_within: 5s, probe: breaker }
  mttr: { below: 2s }
  score: { at_least: 90 }
)yaml";
  auto x = parse_experiment(yaml, "known.yaml", test::test_catalogue(), {});
  auto t = synthetic(40).slow(12, 20, 0.8).errors(12, 20, 2, 0);
  run_facts facts;
  facts.window = 1;
  facts.phases = {{"steady_before", 0, 5}, {"baseline", 5, 10}, {"fault", 10, 20}, {"recovery", 20, 24}, {"after", 24, 30}};
  facts.series = {{"load", "load", t.load}, {"breaker", "metric", values({{13, 1}, {23, 0}}, 40)}};
  reports::phase_stat fault_stat;
  fault_stat.series = "load";
  fault_stat.phase = "fault";
  fault_stat.count = 1000;
  fault_stat.errors = 18;
  fault_stat.error_rate = 0.018;
  fault_stat.availability = 0.982;
  fault_stat.p95 = 0.8;
  reports::phase_stat base = fault_stat;
  base.phase = "baseline";
  base.errors = 0, base.error_rate = 0, base.availability = 1, base.p95 = 0.05;
  facts.phase_stats = {base, fault_stat};
  reports::fault_record f;
  f.step = "latency-1";
  f.type = "latency";
  f.target = "db";
  f.injected_at = 10;
  f.reverted_at = 20;
  f.evidence.observed = true;
  f.evidence.summary = "900 chunks delayed";
  facts.faults = {f};

  auto a = analyse(x, facts);
  CHECK(*a.mttd == Approx(2.0));
  CHECK(*a.mttr == Approx(1.0));
  CHECK(a.recovered);
  CHECK(a.sla_tier == "none");
  REQUIRE(a.breaker);
  CHECK(*a.breaker->time_to_open == Approx(3.0));
  CHECK(*a.breaker->time_to_close == Approx(3.0));
  CHECK(a.phase_stats[1].p95_ratio == Approx(16.0));

  std::map<std::string, reports::expectation_record> by_name;
  for (const auto& e : a.expectations) by_name[e.name] = e;
  CHECK_FALSE(by_name["sla"].met);
  CHECK(by_name["sla"].grade == 0);
  CHECK(by_name["during_fault[0]"].met);
  CHECK(by_name["breaker.opens_within"].met);
  CHECK(by_name["breaker.closes_within"].met);
  CHECK(by_name["mttr"].met);
  CHECK(by_name["steady_after"].met);
  CHECK(by_name["effect:latency-1"].met);
  // Weights: sla 3 (grade 0), rule 1, breaker 1 + 1, mttr 2, steady_after 1 -> 6 of 9.
  CHECK(a.score == Approx(100.0 * 6.0 / 9.0));
  CHECK_FALSE(by_name["score"].met);

  auto v = decide(facts, a);
  CHECK(v.result == "failed");
  CHECK(v.exit_code == 1);
  CHECK_THAT(v.reason, Catch::Contains("sla"));
  CHECK_THAT(v.reason, Catch::Contains("score"));

  facts.aborted = true;
  facts.abort_reason = "load.error_rate > 50% for 10s";
  CHECK(decide(facts, a).exit_code == 3);
  facts.aborted = false;
  facts.steady_before_failed = true;
  facts.steady_before_reason = "load.p95 < 200ms";
  CHECK(decide(facts, a).result == "not_steady");
}
