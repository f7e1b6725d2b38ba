#include "engine/analysis/analysis.hpp"
#include "engine/analysis/scoring.hpp"
#include "engine/loader.hpp"
#include "probes/timeline.hpp"
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
};

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

// The samples behind the synthetic run: load at 100/s, 800 ms slow from 12 s to 21 s; a breaker
// probe read every 200 ms that shows open from 13 s to 23 s.
void record_samples(probes::timeline& t) {
  const auto at = [](double s) { return std::chrono::microseconds(static_cast<std::int64_t>(std::llround(s * 1e6))); };
  auto load = t.series("load");
  for (int i = 0; i < 3000; ++i) {
    const double s = i * 0.01;
    probes::sample smp;
    smp.intended = smp.started = t.start() + at(s);
    smp.latency = at(s >= 12 && s < 21 ? 0.8 : 0.02);
    load.record(smp);
  }
  auto breaker = t.series("breaker");
  for (int i = 0; i < 150; ++i) {
    const double s = i * 0.2;
    probes::sample smp;
    smp.intended = smp.started = t.start() + at(s);
    smp.latency = at(0.001);
    smp.value = s >= 13 && s < 23 ? 1.0 : 0.0;
    breaker.record(smp);
  }
}

}  // namespace

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
  probes::timeline timeline(probes::clock::now());
  record_samples(timeline);
  for (const auto& name : timeline.series_names()) facts.samples.emplace(name, timeline.samples(name));

  auto a = analyse(x, facts);
  // p95 of the last second's 100 samples breaks with the 6th slow one, intended at 12.05 s.
  CHECK(*a.mttd == Approx(2.05));
  CHECK(*a.mttd_resolution == Approx(0.01));
  // It holds again once only 5 slow ones remain in the window: at 21.94 s (the last is at 20.99 s).
  CHECK(*a.mttr == Approx(1.94));
  CHECK(*a.mttr_resolution == Approx(0.01));
  CHECK(a.recovered);
  CHECK(a.sla_tier == "none");
  REQUIRE(a.breaker);
  // The probe saw open between its reads at 12.801 s and 13.001 s; the load was slow throughout
  // and cannot narrow that down.
  CHECK(*a.breaker->time_to_open == Approx(2.901));
  CHECK(*a.breaker->time_to_open_resolution == Approx(0.2));
  CHECK(*a.breaker->time_to_close == Approx(2.901));
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

  // Margins: how far each measured value lies from its target, with a 95 % interval.
  const auto& rule = by_name["during_fault[0]"].margins;
  REQUIRE(rule.size() == 1);
  CHECK(rule[0].quantity == "error_rate load/fault");
  CHECK(rule[0].unit == "fraction");
  CHECK(rule[0].margin == Approx(0.05 - 0.018));
  CHECK(rule[0].basis == "windows");
  REQUIRE(rule[0].low);
  CHECK(*rule[0].low < rule[0].margin);
  CHECK(*rule[0].high > rule[0].margin);
  CHECK(*rule[0].low > 0);  // windows between 0 % and 2 % errors: far from 5 %
  CHECK_FALSE(rule[0].borderline);
  const auto& mttr = by_name["mttr"].margins;
  REQUIRE(mttr.size() == 1);
  CHECK(mttr[0].margin == Approx(2 - 1.94));
  CHECK(*mttr[0].low == Approx(2 - 1.945));  // the time's resolution, 10ms, around it
  CHECK(*mttr[0].high == Approx(2 - 1.935));
  CHECK(mttr[0].basis == "resolution");
  const auto& open = by_name["breaker.opens_within"].margins;
  REQUIRE(open.size() == 1);
  CHECK(open[0].quantity == "breaker time_to_open");
  CHECK(open[0].margin == Approx(5 - 2.901));
  CHECK(*open[0].low == Approx(5 - 3.001));
  const auto& sla = by_name["sla"].margins;
  REQUIRE(sla.size() == 2);
  CHECK(sla[0].quantity == "availability load/fault");
  CHECK(sla[0].margin == Approx(0.982 - 0.995));
  CHECK(sla[1].quantity == "p95 load/fault");
  CHECK(sla[1].margin == Approx(0.5 - 0.8));
  // Two of the ten fault windows were fast: a resampled median window can be fast too, so the
  // p95's interval reaches below silver's 500ms: borderline. The availability stays below 99.5 %.
  CHECK(sla[1].borderline);
  CHECK(*sla[1].high > 0);
  CHECK_FALSE(sla[0].borderline);
  CHECK(*sla[0].high < 0);
  CHECK(by_name["sla"].borderline());
  REQUIRE(a.sla_tier_range);
  CHECK(*a.sla_tier_range == "none");
  const auto& score = by_name["score"].margins;
  REQUIRE(score.size() == 1);
  CHECK(score[0].margin == Approx(a.score - 90));
  CHECK_FALSE(score[0].low);
  CHECK(by_name["steady_after"].margins.empty());
  CHECK(by_name["effect:latency-1"].margins.empty());

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

TEST_CASE("a journal holds what the analysis needs: analysed again, it gives the same numbers", "[engine]") {
  const std::string yaml = R"yaml(version: 1
name: again
proxies:
  db: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
load:
  http: { url: http://127.0.0.1:8080/, rate: 100/s }
probes:
  breaker: { metric: { url: http://127.0.0.1:8080/metrics, series: state, every: 200ms } }
steady_state:
  for: 3s
  require: [ "load.p95 < 200ms", "breaker.value == 0" ]
timeline:
  baseline: 5s
  steps:
    - { at: 0s, for: 10s, fault: latency, target: db, latency: 800ms }
  recovery: { timeout: 30s, stable_for: 3s }
expect:
  breaker: { opens_within: 5s, closes_within: 5s, probe: breaker }
  mttr: { below: 5s }
)yaml";
  auto x = parse_experiment(yaml, "again.yaml", test::test_catalogue(), {});
  probes::timeline timeline(probes::clock::now());
  record_samples(timeline);
  reports::journal j;
  j.window = 1;
  j.experiment.resolved_yaml = yaml;
  j.phases = {{"steady_before", 0, 5}, {"baseline", 5, 10}, {"fault", 10, 20}, {"recovery", 20, 24}, {"after", 24, 30}};
  j.series = {{"load", "load", synthetic(30).slow(12, 20, 0.8).load}, {"breaker", "metric", values({{13, 1}, {23, 0}}, 30)}};
  j.timeline = timeline.to_json();
  j.verdict = {"passed", 0, "all met"};
  run_facts facts = facts_of(j);
  j.analysis = analyse(x, facts);
  REQUIRE(j.analysis.mttr);
  // The breaker rule holds again halfway between the reads at 22.801 s and 23.001 s.
  CHECK(*j.analysis.mttr == Approx(2.901));

  auto read = reports::journal_from_json(reports::to_json(j));
  const auto stored = read.analysis;
  reanalyse(read, x);
  CHECK(read.analysis == stored);
  CHECK(read.verdict.result == "passed");

  // A journal without sample logs (schema version 1) cannot be analysed again, and says so.
  auto old = j;
  old.timeline["version"] = 1;
  for (auto& [name, series] : old.timeline["series"].items()) series.erase("samples");
  CHECK_THROWS_WITH(facts_of(old), Catch::Contains("no complete sample log"));
}
