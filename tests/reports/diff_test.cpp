#include "reports/diff.hpp"
#include "tests/reports/synthetic_journal.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using reports::change_kind;

namespace {

const reports::metric_change& find(const reports::run_diff& d, const std::string& metric) {
  for (const auto& c : d.changes)
    if (c.metric == metric) return c;
  FAIL("no change for " << metric);
  throw std::logic_error("unreachable");
}

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
  CHECK(find(d, "mttr").before == "4s");
  CHECK(find(d, "p99 load/fault").kind == change_kind::unchanged);
  CHECK_THAT(reports::render_diff_text(d), Catch::Contains("no regression beyond the thresholds"));
}

TEST_CASE("diff: MTTR beyond its threshold is a regression, within it is only worse", "[reports]") {
  auto old_run = test::synthetic_journal();
  auto slower = old_run;
  slower.analysis.mttr = 12.0;
  auto d = reports::compare_runs(old_run, slower);
  CHECK(d.regressed());
  CHECK(find(d, "mttr").kind == change_kind::regression);
  CHECK(find(d, "mttr").delta == "+8s (+200%)");

  slower.analysis.mttr = 4.9;  // +22.5%, within the default 25%
  CHECK(find(reports::compare_runs(old_run, slower), "mttr").kind == change_kind::worse);
  slower.analysis.mttr = 5.5;  // +37.5%
  CHECK(find(reports::compare_runs(old_run, slower), "mttr").kind == change_kind::regression);
  reports::diff_thresholds absolute;
  absolute.max_mttr_increase = 2.0;
  CHECK(find(reports::compare_runs(old_run, slower, absolute), "mttr").kind == change_kind::worse);

  // Below one window MTTR cannot be told apart: 1s -> 1.9s with 1s windows is not a regression.
  old_run.analysis.mttr = 1.0;
  slower.analysis.mttr = 1.9;
  CHECK(find(reports::compare_runs(old_run, slower), "mttr").kind == change_kind::worse);

  auto stuck = test::synthetic_journal();
  stuck.analysis.mttr.reset();
  stuck.analysis.recovered = false;
  auto s = reports::compare_runs(test::synthetic_journal(), stuck);
  CHECK(find(s, "mttr").kind == change_kind::regression);
  CHECK(find(s, "mttr").after == "not recovered");
  CHECK(find(reports::compare_runs(stuck, test::synthetic_journal()), "mttr").kind == change_kind::improved);
}

TEST_CASE("diff: score, tier, p99, error rate, expectations and verdict", "[reports]") {
  auto base = test::synthetic_journal();

  auto lower = base;
  lower.analysis.score -= 3;
  CHECK(find(reports::compare_runs(base, lower), "score").kind == change_kind::worse);
  lower.analysis.score -= 7;
  CHECK(find(reports::compare_runs(base, lower), "score").kind == change_kind::regression);

  auto tier = base;
  tier.analysis.sla_tier = "none";
  CHECK(find(reports::compare_runs(base, tier), "sla_tier").kind == change_kind::regression);
  CHECK(find(reports::compare_runs(base, tier), "sla_tier").delta == "-1 tier");
  reports::diff_thresholds allow;
  allow.allow_tier_drop = true;
  CHECK_FALSE(reports::compare_runs(base, tier, allow).regressed());
  CHECK(find(reports::compare_runs(tier, base), "sla_tier").kind == change_kind::improved);

  auto p99 = base;
  *stat(p99, "load", "fault").p99 *= 1.10;
  CHECK(find(reports::compare_runs(base, p99), "p99 load/fault").kind == change_kind::worse);
  *stat(p99, "load", "fault").p99 *= 1.5;
  CHECK(find(reports::compare_runs(base, p99), "p99 load/fault").kind == change_kind::regression);
  // A tiny absolute change is noise however large in percent.
  auto tiny = base;
  *stat(tiny, "breaker", "after").p99 += 0.004;
  CHECK(find(reports::compare_runs(base, tiny), "p99 breaker/after").kind == change_kind::worse);

  auto errors = base;
  stat(errors, "load", "recovery").error_rate += 0.02;
  CHECK(find(reports::compare_runs(base, errors), "error_rate load/recovery").kind == change_kind::regression);
  CHECK(find(reports::compare_runs(base, errors), "error_rate load/recovery").delta == "+2%");

  auto missed = base;
  missed.analysis.expectations[4].met = false;  // mttr
  missed.analysis.expectations[4].grade = 0.4;
  auto m = reports::compare_runs(base, missed);
  CHECK(find(m, "expectation mttr").kind == change_kind::regression);
  CHECK(find(m, "expectation mttr").delta == "grade 100% → 40%");
  CHECK(find(m, "expectation sla").kind == change_kind::unchanged);  // missed in both
  allow.allow_new_failures = true;
  CHECK(find(reports::compare_runs(base, missed, allow), "expectation mttr").kind == change_kind::worse);

  auto passing = base;
  passing.verdict = {"passed", 0, "all expectations met"};
  CHECK(find(reports::compare_runs(passing, base), "verdict").kind == change_kind::regression);
  CHECK(find(reports::compare_runs(base, passing), "verdict").kind == change_kind::improved);

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
