#include "reports/diff.hpp"
#include "reports/margins.hpp"
#include "tests/reports/find_change.hpp"
#include "tests/reports/synthetic_journal.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace faultline;
using reports::change_kind;
using test::find_change;

namespace {

reports::phase_stat& stat(reports::journal& j, const std::string& series, const std::string& phase) {
  for (auto& s : j.analysis.phase_stats)
    if (s.series == series && s.phase == phase) return s;
  throw std::logic_error("no stat");
}

}  // namespace

TEST_CASE("diff: identical runs have no regression", "[reports]") {
  auto j = test::synthetic_journal();
  auto d = reports::compare_runs(j, j);
  CHECK_FALSE(d.regressed());
  CHECK(d.mismatch.empty());
  for (const auto& c : d.changes) {
    INFO(c.metric);
    CHECK(c.kind == change_kind::unchanged);
  }
  CHECK(find_change(d, "mttr").before == "4s");
  CHECK(find_change(d, "p99 load/fault").kind == change_kind::unchanged);
  CHECK_THAT(reports::render_diff_text(d), Catch::Contains("no regression beyond the thresholds"));
}

TEST_CASE("diff: MTTR beyond its threshold is a regression, within it is only worse", "[reports]") {
  auto old_run = test::synthetic_journal();
  auto slower = old_run;
  slower.analysis.mttr = 12.0;
  auto d = reports::compare_runs(old_run, slower);
  CHECK(d.regressed());
  CHECK(find_change(d, "mttr").kind == change_kind::regression);
  CHECK(find_change(d, "mttr").delta == "+8s (+200%)");

  slower.analysis.mttr = 4.9;  // +22.5%, within the default 25%
  CHECK(find_change(reports::compare_runs(old_run, slower), "mttr").kind == change_kind::worse);
  slower.analysis.mttr = 5.5;  // +37.5%
  CHECK(find_change(reports::compare_runs(old_run, slower), "mttr").kind == change_kind::regression);
  reports::diff_thresholds absolute;
  absolute.max_mttr_increase = 2.0;
  CHECK(find_change(reports::compare_runs(old_run, slower, absolute), "mttr").kind == change_kind::worse);

  // Below one window MTTR cannot be told apart: 1s -> 1.9s with 1s windows is not a regression.
  old_run.analysis.mttr = 1.0;
  slower.analysis.mttr = 1.9;
  CHECK(find_change(reports::compare_runs(old_run, slower), "mttr").kind == change_kind::worse);

  auto stuck = test::synthetic_journal();
  stuck.analysis.mttr.reset();
  stuck.analysis.recovered = false;
  auto s = reports::compare_runs(test::synthetic_journal(), stuck);
  CHECK(find_change(s, "mttr").kind == change_kind::regression);
  CHECK(find_change(s, "mttr").after == "not recovered");
  CHECK(find_change(reports::compare_runs(stuck, test::synthetic_journal()), "mttr").kind == change_kind::improved);
}

TEST_CASE("diff: a series' p99 is compared when its journal says its latencies describe the system", "[reports]") {
  const auto p99_compared = [](const reports::journal& before, const reports::journal& after, const std::string& series) {
    const auto d = reports::compare_runs(before, after);
    return std::any_of(d.changes.begin(), d.changes.end(),
                       [&](const auto& c) { return c.metric == "p99 " + series + "/after"; });
  };
  const auto ten_times_slower = [](reports::journal j) {
    *stat(j, "health", "after").p99 *= 10;
    *stat(j, "breaker", "after").p99 *= 10;
    return j;
  };
  // Written before the journal said so (as the synthetic journal is): decided by the probe type,
  // health an http probe, breaker a metric probe read for its value.
  auto base = test::synthetic_journal();
  CHECK(p99_compared(base, ten_times_slower(base), "health"));
  CHECK_FALSE(p99_compared(base, ten_times_slower(base), "breaker"));
  // What a journal records wins over the type's name.
  for (auto& s : base.series) {
    if (s.name == "health") s.latency_describes_system = false;
    if (s.name == "breaker") s.latency_describes_system = true;
  }
  CHECK_FALSE(p99_compared(base, ten_times_slower(base), "health"));
  CHECK(p99_compared(base, ten_times_slower(base), "breaker"));
  // And it survives the journal's JSON form.
  const auto read = reports::journal_from_json(reports::to_json(base));
  REQUIRE(read.series.size() == base.series.size());
  for (std::size_t i = 0; i < read.series.size(); ++i)
    CHECK(read.series[i].latency_describes_system == base.series[i].latency_describes_system);
}

TEST_CASE("diff: score, tier, p99, error rate, expectations and verdict", "[reports]") {
  auto base = test::synthetic_journal();

  auto lower = base;
  lower.analysis.score -= 3;
  CHECK(find_change(reports::compare_runs(base, lower), "score").kind == change_kind::worse);
  lower.analysis.score -= 7;
  CHECK(find_change(reports::compare_runs(base, lower), "score").kind == change_kind::regression);

  auto tier = base;
  tier.analysis.sla_tier = "none";
  CHECK(find_change(reports::compare_runs(base, tier), "sla_tier").kind == change_kind::regression);
  CHECK(find_change(reports::compare_runs(base, tier), "sla_tier").delta == "-1 tier");
  reports::diff_thresholds allow;
  allow.allow_tier_drop = true;
  CHECK_FALSE(reports::compare_runs(base, tier, allow).regressed());
  CHECK(find_change(reports::compare_runs(tier, base), "sla_tier").kind == change_kind::improved);

  auto p99 = base;
  *stat(p99, "load", "fault").p99 *= 1.10;
  CHECK(find_change(reports::compare_runs(base, p99), "p99 load/fault").kind == change_kind::worse);
  *stat(p99, "load", "fault").p99 *= 1.5;
  CHECK(find_change(reports::compare_runs(base, p99), "p99 load/fault").kind == change_kind::regression);
  // A tiny absolute change is noise however large in percent.
  auto tiny = base;
  *stat(tiny, "health", "after").p99 += 0.004;
  CHECK(find_change(reports::compare_runs(base, tiny), "p99 health/after").kind == change_kind::worse);
  // A metric probe's latencies are its scrapes: not compared at all.
  auto scrape = base;
  *stat(scrape, "breaker", "after").p99 *= 10;
  for (const auto& c : reports::compare_runs(base, scrape).changes) CHECK(c.metric.find("p99 breaker/") == std::string::npos);

  auto errors = base;
  stat(errors, "load", "recovery").error_rate += 0.02;
  CHECK(find_change(reports::compare_runs(base, errors), "error_rate load/recovery").kind == change_kind::regression);
  CHECK(find_change(reports::compare_runs(base, errors), "error_rate load/recovery").delta == "+2%");

  auto missed = base;
  missed.analysis.expectations[4].met = false;  // mttr
  missed.analysis.expectations[4].grade = 0.4;
  auto m = reports::compare_runs(base, missed);
  CHECK(find_change(m, "expectation mttr").kind == change_kind::regression);
  CHECK(find_change(m, "expectation mttr").delta == "grade 100% → 40%");
  CHECK(find_change(m, "expectation sla").kind == change_kind::unchanged);  // missed in both
  allow.allow_new_failures = true;
  CHECK(find_change(reports::compare_runs(base, missed, allow), "expectation mttr").kind == change_kind::worse);

  auto passing = base;
  passing.verdict = {"passed", 0, "all expectations met"};
  CHECK(find_change(reports::compare_runs(passing, base), "verdict").kind == change_kind::regression);
  CHECK(find_change(reports::compare_runs(base, passing), "verdict").kind == change_kind::improved);

  auto other = base;
  other.experiment.name = "another";
  CHECK(reports::compare_runs(base, other).mismatch ==
        "the journals are of different experiments: 'checkout-db-slowness' (old) and 'another' (new)");
}

TEST_CASE("diff: the Markdown and text renderings show every regression", "[reports]") {
  auto base = test::synthetic_journal();
  auto worse = base;
  worse.analysis.mttr = 12.0;
  auto d = reports::compare_runs(base, worse);
  auto text = reports::render_diff_text(d);
  CHECK_THAT(text, Catch::Contains("1 regression beyond the thresholds"));
  CHECK_THAT(text, Catch::Contains("REGRESSION"));
  auto md = reports::render_diff_markdown(d);
  CHECK_THAT(md, Catch::StartsWith("## ❌ checkout-db-slowness: 1 regression\n"));
  CHECK_THAT(md, Catch::Contains("| `mttr` | 4s | 12s | +8s (+200%) | ≤ +25% (at least one window) | ❌ regression |"));
}

namespace {

reports::expectation_record& expectation(reports::journal& j, const std::string& name) {
  for (auto& e : j.analysis.expectations)
    if (e.name == name) return e;
  throw std::logic_error("no expectation " + name);
}

// A run that passed every expectation; its mttr (4s against <= 10s) known to ±0.1s.
reports::journal passing() {
  auto j = test::synthetic_journal();
  for (auto& e : j.analysis.expectations) e.met = true;
  j.verdict = {"passed", 0, "all met"};
  expectation(j, "mttr").margins = {
      reports::make_margin("mttr", "seconds", 4, 10, reports::bound_kind::at_most, reports::stats::interval{3.9, 4.1}, "resolution")};
  return j;
}

// The same run with mttr missed (10.2s), its interval [lo, hi].
reports::journal missing_mttr(double lo, double hi) {
  auto j = passing();
  auto& e = expectation(j, "mttr");
  e.met = false;
  e.measured = "10.2s";
  e.margins = {reports::make_margin("mttr", "seconds", 10.2, 10, reports::bound_kind::at_most, reports::stats::interval{lo, hi}, "windows")};
  j.analysis.mttr = 10.2;
  j.verdict = {"failed", 1, "1 of 9 expectations missed: mttr"};
  return j;
}

}  // namespace

TEST_CASE("diff: a newly missed expectation whose interval spans its target is borderline, not a regression", "[reports]") {
  auto borderline = reports::compare_runs(passing(), missing_mttr(9.7, 10.6));
  const auto& e = find_change(borderline, "expectation mttr");
  CHECK(e.kind == change_kind::worse);
  CHECK_THAT(e.note, Catch::Contains("borderline: mttr margin -200ms [-600ms, +300ms] borderline"));
  CHECK(find_change(borderline, "verdict").kind == change_kind::worse);
  CHECK_THAT(find_change(borderline, "verdict").note, Catch::Contains("borderline"));
  CHECK(find_change(borderline, "mttr").kind == change_kind::regression);  // the MTTR figure itself: +155 %, beyond its threshold
  auto clear = reports::compare_runs(passing(), missing_mttr(10.1, 10.3));
  CHECK(find_change(clear, "expectation mttr").kind == change_kind::regression);
  CHECK(find_change(clear, "verdict").kind == change_kind::regression);
}

TEST_CASE("diff: a tier drop between overlapping tier ranges is borderline", "[reports]") {
  auto before = passing(), after = passing();
  before.analysis.sla_tier = "gold";
  after.analysis.sla_tier = "silver";
  CHECK(find_change(reports::compare_runs(before, after), "sla_tier").kind == change_kind::regression);
  before.analysis.sla_tier_range = "silver..gold";
  after.analysis.sla_tier_range = "silver..gold";
  auto overlapping = reports::compare_runs(before, after);
  const auto& tier = find_change(overlapping, "sla_tier");
  CHECK(tier.kind == change_kind::worse);
  CHECK(tier.note == "borderline: silver..gold -> silver..gold");
  after.analysis.sla_tier = "bronze";
  after.analysis.sla_tier_range = "bronze";
  CHECK(find_change(reports::compare_runs(before, after), "sla_tier").kind == change_kind::regression);  // below the old range
}

TEST_CASE("diff: the breaker's time to open and to close and its flaps", "[reports]") {
  auto before = test::synthetic_journal();  // opens after 612ms ±10ms, closes after 3s ±100ms, 1 flap
  auto after = before;
  after.analysis.breaker->time_to_open = 0.7;   // +88ms: within +25 % (153ms)
  after.analysis.breaker->time_to_close = 4.0;  // +1s: beyond +25 % (750ms)
  after.analysis.breaker->flaps = 2;            // one more: within the allowed +1
  auto d = reports::compare_runs(before, after);
  CHECK(find_change(d, "breaker time_to_open").kind == change_kind::worse);
  CHECK(find_change(d, "breaker time_to_close").kind == change_kind::regression);
  CHECK(find_change(d, "breaker time_to_close").delta == "+1s (+33.3%)");
  CHECK(find_change(d, "breaker flaps").kind == change_kind::worse);
  after.analysis.breaker->flaps = 3;
  after.analysis.breaker->time_to_open.reset();  // no longer opens
  auto e = reports::compare_runs(before, after);
  CHECK(find_change(e, "breaker flaps").kind == change_kind::regression);
  CHECK(find_change(e, "breaker time_to_open").kind == change_kind::regression);
  CHECK(find_change(e, "breaker time_to_open").after == "never");
  CHECK(find_change(reports::compare_runs(after, before), "breaker flaps").kind == change_kind::improved);
}
