#include "reports/repeat_summary.hpp"
#include "tests/reports/synthetic_journal.hpp"

#include <catch2/catch.hpp>

using namespace faultline;

namespace {

// Runs of the synthetic experiment, each with its score and verdict; the mttr expectation is met
// exactly in the passing runs.
std::vector<reports::journal> runs(const std::vector<std::pair<double, std::string>>& outcomes) {
  std::vector<reports::journal> out;
  for (const auto& [score, result] : outcomes) {
    auto j = test::synthetic_journal();
    j.analysis.score = score;
    j.verdict.result = result;
    j.verdict.exit_code = result == "passed" ? 0 : result == "aborted" ? 3 : 1;
    for (auto& e : j.analysis.expectations) e.met = e.name != "mttr" || result == "passed";
    out.push_back(j);
  }
  return out;
}

const reports::repeat_figure& figure(const reports::repeat_summary& s, const std::string& name) {
  for (const auto& f : s.figures)
    if (f.name == name) return f;
  FAIL("no figure " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("repeat summary: median and interval per figure, and a flaky verdict naming what flipped", "[reports]") {
  auto r = runs({{80, "passed"}, {84, "passed"}, {70, "failed"}, {82, "passed"}, {90, "passed"}});
  auto s = reports::summarize_repeats(r);
  CHECK(s.runs == 5);
  CHECK(s.passed == 4);
  CHECK(s.outcome() == "flaky");
  CHECK(s.exit_code() == reports::flaky_exit_code);
  CHECK(s.flipped == std::vector<std::string>{"mttr"});
  const auto& score = figure(s, "score");
  CHECK(score.median == 82);
  REQUIRE(score.interval);
  CHECK(score.interval->low >= 70);
  CHECK(score.interval->high <= 90);
  CHECK(score.interval->contains(82));
  CHECK(figure(s, "p99 load/fault").values.size() == 5);
  CHECK(figure(s, "mttr").median == 4);
  CHECK(figure(s, "breaker flaps").median == 1);
  auto text = reports::render_repeat_text(s);
  CHECK_THAT(text, Catch::StartsWith("checkout-db-slowness: passed 4 of 5: flaky (flipped: mttr) (exit 5)"));
  CHECK_THAT(text, Catch::Contains("score"));
}

TEST_CASE("repeat summary: exit 0 only when every run passed, 1 when none did, an abort wins", "[reports]") {
  CHECK(reports::summarize_repeats(runs({{80, "passed"}, {81, "passed"}, {79, "passed"}})).exit_code() == 0);
  auto none = reports::summarize_repeats(runs({{60, "failed"}, {61, "failed"}}));
  CHECK(none.outcome() == "failed");
  CHECK(none.exit_code() == 1);
  CHECK(none.flipped.empty());
  auto aborted = reports::summarize_repeats(runs({{80, "passed"}, {0, "aborted"}}));
  CHECK(aborted.exit_code() == 3);
  CHECK(aborted.outcome() == "incomplete");
  auto one = reports::summarize_repeats(runs({{80, "passed"}}));
  CHECK_FALSE(figure(one, "score").interval);
}

TEST_CASE("repeat summary: each expectation's margin across the runs, borderline when the runs fall either side", "[reports]") {
  auto r = runs({{80, "passed"}, {84, "passed"}, {70, "failed"}, {82, "passed"}, {90, "passed"}});
  const double margins[] = {0.5, 0.8, -0.3, 0.2, 1.1};
  for (std::size_t i = 0; i < r.size(); ++i)
    for (auto& e : r[i].analysis.expectations)
      if (e.name == "mttr")
        e.margins = {reports::make_margin("mttr", "seconds", 10 - margins[i], 10, reports::bound_kind::at_most, std::nullopt, "")};
  auto s = reports::summarize_repeats(r);
  REQUIRE(s.margins.size() == 1);
  const auto& m = s.margins[0];
  CHECK(m.expectation == "mttr");
  CHECK(m.met == 4);
  CHECK(m.runs == std::vector<std::size_t>{1, 2, 3, 4, 5});
  CHECK(m.margin.margin == Approx(0.5));
  CHECK(m.margin.basis == "runs");
  CHECK(m.margin.borderline);  // one run in five missed it: the median's interval reaches below 0
  CHECK_THAT(reports::render_repeat_text(s), Catch::Contains("mttr         mttr      +500ms ["));
  CHECK_THAT(reports::render_repeat_text(s), Catch::Contains("borderline  (met in 4 of 5)"));
}
