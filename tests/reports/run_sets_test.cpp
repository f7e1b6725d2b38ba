#include "reports/diff.hpp"
#include "reports/run_sets.hpp"
#include "reports/run_summary.hpp"
#include "tests/reports/find_change.hpp"
#include "tests/reports/synthetic_journal.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <regex>

using namespace faultline;
using reports::change_kind;
using test::find_change;

namespace {

// The engine's tier table (engine/loader.cpp sla_target_of), lowest first.
const std::vector<reports::tier_bound> tiers{{"bronze", 0.99, 1.0}, {"silver", 0.995, 0.5}, {"gold", 0.999, 0.2}, {"platinum", 0.9995, 0.1}};

reports::set_options options() {
  reports::set_options o;
  o.tiers = tiers;
  return o;
}

// The synthetic run with the load's fault-phase latencies (phase figures and windows) times `factor`.
reports::journal run_with(double factor, int id, double score_shift = 0) {
  auto j = test::synthetic_journal();
  j.run_id = "run-" + std::to_string(id);
  j.analysis.score += score_shift;
  const auto* fault = reports::find_phase(j, "fault");
  for (auto& s : j.analysis.phase_stats)
    if (s.series == "load" && s.phase == "fault") {
      *s.p95 *= factor;
      *s.p99 *= factor;
    }
  for (auto& s : j.series)
    if (s.name == "load")
      for (auto& w : s.windows)
        if (w.start >= fault->start && w.start < fault->end && w.count > 0) {
          *w.p95 *= factor;
          *w.p99 *= factor;
        }
  return j;
}

// `n` runs whose fault-phase latencies scatter by about 8 % around `factor` (run-to-run noise).
std::vector<reports::journal> run_set(std::size_t n, double factor, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> noise(0, 0.08);
  std::normal_distribution<double> score_noise(0, 2);
  std::vector<reports::journal> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(run_with(factor * noise(rng), static_cast<int>(i), score_noise(rng)));
  return out;
}


}  // namespace

TEST_CASE("run sets: unchanged code gives no regression, over ten pairs of five runs at most one false alarm", "[reports]") {
  int false_alarms = 0;
  for (std::uint64_t pair = 0; pair < 10; ++pair) {
    auto d = reports::compare_sets(run_set(5, 1, 100 + pair), run_set(5, 1, 200 + pair), options());
    CHECK(d.caveat.empty());
    if (d.regressed()) {
      ++false_alarms;
      UNSCOPED_INFO("pair " << pair << ":\n" << reports::render_set_diff_text(d));
    }
  }
  CHECK(false_alarms <= 1);
}

TEST_CASE("run sets: a 40 percent slower fault phase is a significant regression on the figures it moves and nothing else", "[reports]") {
  auto d = reports::compare_sets(run_set(5, 1, 1), run_set(5, 1.4, 2), options());
  INFO(reports::render_set_diff_text(d));
  const auto& p99 = find_change(d, "p99 load/fault");
  CHECK(p99.kind == change_kind::regression);
  REQUIRE(p99.p);
  CHECK(*p99.p < 0.05);
  REQUIRE(p99.interval);
  CHECK(p99.interval->low > 0);
  CHECK(p99.interval->contains(*p99.change));
  CHECK(std::regex_match(p99.shown, std::regex(R"(p99 load/fault \+\d+ % \[\+\d+ %, \+\d+ %\], p = 0\.\d+)")));
  CHECK(find_change(d, "p95 load/fault").kind == change_kind::regression);
  for (const auto& c : d.changes)
    if (c.metric != "p99 load/fault" && c.metric != "p95 load/fault") {
      INFO(c.shown);
      CHECK(c.kind != change_kind::regression);
    }
  CHECK(d.regressions() == 2);
}

TEST_CASE("run sets: beyond the threshold but not significant is not a regression", "[reports]") {
  // Three runs a side: even a clear change cannot reach p < 0.05, and the output says so.
  auto d = reports::compare_sets(run_set(3, 1, 1), run_set(3, 1.4, 2), options());
  CHECK_THAT(d.caveat, Catch::Contains("cannot show a difference"));
  const auto& p99 = find_change(d, "p99 load/fault");
  CHECK(p99.kind == change_kind::worse);
  CHECK_THAT(p99.note, Catch::Contains("not significant"));
  CHECK_FALSE(d.regressed());
}

TEST_CASE("run sets: a tier whose interval spans a boundary is borderline and its change is no regression", "[reports]") {
  // The fault-phase p95 sits on gold's 200 ms bound: runs land on either side of it.
  auto at = [](std::vector<double> p95s) {
    std::vector<reports::journal> runs;
    for (double p : p95s) {
      auto j = test::synthetic_journal();
      for (auto& s : j.analysis.phase_stats)
        if (s.series == "load" && s.phase == "fault") {
          s.availability = 0.9997;
          s.p95 = p;
        }
      runs.push_back(j);
    }
    return runs;
  };
  auto before = at({0.19, 0.195, 0.205, 0.198, 0.21});
  auto after = at({0.21, 0.202, 0.206, 0.19, 0.215});
  auto d = reports::compare_sets(before, after, options());
  INFO(reports::render_set_diff_text(d));
  CHECK(d.tier_before.text() == "silver..gold");
  CHECK(d.tier_after.borderline());
  const auto& tier = find_change(d, "sla_tier");
  CHECK(tier.borderline);
  CHECK(tier.kind != change_kind::regression);
  CHECK_THAT(tier.shown, Catch::Contains("silver..gold"));

  // Clearly apart: every new run is far below the old tier.
  auto d2 = reports::compare_sets(at({0.15, 0.16, 0.15, 0.14, 0.16}), at({0.6, 0.62, 0.61, 0.59, 0.6}), options());
  CHECK(d2.tier_before.text() == "gold");
  CHECK(d2.tier_after.text() == "bronze");
  CHECK(find_change(d2, "sla_tier").kind == change_kind::regression);
}

TEST_CASE("run sets: one run a side flags only changes outside the within-run spread", "[reports]") {
  auto same = reports::compare_sets({run_with(1, 1)}, {run_with(1, 2)}, options());
  CHECK_THAT(same.caveat, Catch::Contains("cannot tell noise from change"));
  CHECK_FALSE(same.regressed());
  CHECK_THAT(reports::render_set_diff_text(same), Catch::Contains("no regression beyond the thresholds and the noise"));

  // Every fault window twice as slow: far outside the spread of the windows.
  auto slower = reports::compare_sets({run_with(1, 1)}, {run_with(2, 2)}, options());
  const auto& p99 = find_change(slower, "p99 load/fault");
  CHECK(p99.kind == change_kind::regression);
  REQUIRE(p99.interval);
  CHECK(p99.interval->low > 0);
  CHECK_FALSE(p99.p);

  // The phase figure 30 % higher, but its windows as before: within the spread, so only worse.
  auto j = run_with(1, 2);
  for (auto& s : j.analysis.phase_stats)
    if (s.series == "load" && s.phase == "fault") *s.p99 *= 1.3;
  auto within = reports::compare_sets({run_with(1, 1)}, {j}, options());
  const auto& c = find_change(within, "p99 load/fault");
  CHECK(c.kind == change_kind::worse);
  CHECK_THAT(c.note, Catch::Contains("within-run spread"));
}

namespace {

// Runs whose breaker opens after `open[i]` seconds.
std::vector<reports::journal> opening_after(const std::vector<double>& open) {
  std::vector<reports::journal> out;
  for (std::size_t i = 0; i < open.size(); ++i) {
    auto j = run_with(1, static_cast<int>(i));
    j.analysis.breaker->time_to_open = open[i];
    out.push_back(j);
  }
  return out;
}

// Runs with these mttr margins (target 10s): met when the margin is not negative.
std::vector<reports::journal> mttr_margins(const std::vector<double>& margins) {
  std::vector<reports::journal> out;
  for (std::size_t i = 0; i < margins.size(); ++i) {
    auto j = run_with(1, static_cast<int>(i));
    bool all_met = true;
    for (auto& e : j.analysis.expectations) {
      if (e.name == "mttr") {
        e.margins = {reports::make_margin("mttr", "seconds", 10 - margins[i], 10, reports::bound_kind::at_most, std::nullopt, "")};
        e.met = margins[i] >= 0;
      } else {
        e.met = true;
      }
      all_met = all_met && e.met;
    }
    j.verdict = {all_met ? "passed" : "failed", all_met ? 0 : 1, ""};
    out.push_back(j);
  }
  return out;
}

}  // namespace

TEST_CASE("run sets: the breaker's time to open is compared across runs with the same significance rules", "[reports]") {
  auto before = opening_after({0.60, 0.62, 0.58, 0.61, 0.63});
  auto slower = reports::compare_sets(before, opening_after({0.85, 0.88, 0.83, 0.86, 0.90}), options());
  const auto& open = find_change(slower, "breaker time_to_open");
  CHECK(open.kind == change_kind::regression);
  REQUIRE(open.p);
  CHECK(*open.p < 0.05);
  CHECK(find_change(slower, "breaker flaps").kind == change_kind::unchanged);
  // Three runs a side cannot reach p < 0.05: beyond the threshold, not a regression.
  auto three = reports::compare_sets(opening_after({0.60, 0.62, 0.58}), opening_after({0.85, 0.88, 0.83}), options());
  CHECK(find_change(three, "breaker time_to_open").kind == change_kind::worse);
  CHECK_THAT(find_change(three, "breaker time_to_open").note, Catch::Contains("not significant"));
  // Within noise: no regression.
  auto same = reports::compare_sets(before, opening_after({0.61, 0.59, 0.63, 0.60, 0.62}), options());
  CHECK(find_change(same, "breaker time_to_open").kind != change_kind::regression);
}

TEST_CASE("run sets: an expectation's margin is a regression only when it crossed the target significantly and is not borderline", "[reports]") {
  auto met = mttr_margins({5, 5.5, 6, 4.5, 5.2});
  auto missed = reports::compare_sets(met, mttr_margins({-1, -1.2, -0.8, -1.1, -0.9}), options());
  const auto& m = find_change(missed, "margin mttr");
  CHECK(m.kind == change_kind::regression);
  CHECK(*m.p == Approx(2.0 / 252));
  CHECK(m.shown.rfind("margin mttr -6.2s [", 0) == 0);
  CHECK(find_change(missed, "verdict").kind == change_kind::regression);

  // New runs either side of the target: borderline, not a regression.
  auto split = reports::compare_sets(met, mttr_margins({-0.1, 0.2, -0.05, 0.1, -0.2}), options());
  const auto& b = find_change(split, "margin mttr");
  CHECK(b.kind == change_kind::worse);
  CHECK_THAT(b.note, Catch::Contains("borderline"));
  CHECK_FALSE(split.regressed());
}

TEST_CASE("run sets: one run a side never calls the breaker's times a regression", "[reports]") {
  auto before = opening_after({0.549});
  auto after = opening_after({0.910});  // as two real runs of db-slowness on the same code did
  auto diff = reports::compare_runs(before.front(), after.front());
  CHECK(find_change(diff, "breaker time_to_open").kind == change_kind::regression);  // the thresholds alone
  reports::bound_by_spread(diff, reports::compare_sets(before, after, options()));
  const auto& open = find_change(diff, "breaker time_to_open");
  CHECK(open.kind == change_kind::worse);
  CHECK(open.note == "no within-run spread for the breaker: compare sets of runs");
  CHECK_FALSE(diff.regressed());
}

namespace {
// A run whose service breaker retried every `retry` seconds while the fault lasted and closed
// `mttr` seconds after the revert (at 20 s), which is its MTTR.
reports::journal recovering_after(double mttr, double retry, int seed) {
  auto j = run_with(1, seed);
  j.analysis.mttr = mttr;
  auto& b = *j.analysis.breaker;
  b.transitions = {{15.6, "closed", "open"}, {15.6 + retry, "open", "half_open"}, {15.7 + retry, "half_open", "open"},
                   {15.7 + 2 * retry, "open", "half_open"}, {20 + mttr, "half_open", "closed"}};
  b.time_to_close = mttr;
  return j;
}
}  // namespace

TEST_CASE("run sets: one run a side calls an MTTR change a regression only beyond the breaker's retry period", "[reports]") {
  const auto diff = [](const reports::journal& before, const reports::journal& after) {
    auto d = reports::compare_runs(before, after);
    reports::bound_by_spread(d, reports::compare_sets({before}, {after}, options()));
    return d;
  };
  // As two runs of the same short db-slowness did: the breaker retries every 1.7 s, and the MTTR
  // moved from 2.29 s to 3.49 s with the phase of that timer at the revert.
  auto same_code = diff(recovering_after(2.29, 1.7, 1), recovering_after(3.49, 1.7, 2));
  const auto& moved = find_change(same_code, "mttr");
  CHECK(moved.kind == change_kind::worse);
  CHECK_THAT(moved.note, Catch::Contains("retry period") && Catch::Contains("1.7s"));
  CHECK_FALSE(same_code.regressed());
  // Beyond one retry period: a regression, as without a breaker.
  CHECK(find_change(diff(recovering_after(2.29, 1.7, 1), recovering_after(4.5, 1.7, 2)), "mttr").kind == change_kind::regression);
  auto no_breaker = [](reports::journal j) {
    j.analysis.breaker.reset();
    return j;
  };
  CHECK(find_change(diff(no_breaker(recovering_after(2.29, 1.7, 1)), no_breaker(recovering_after(3.49, 1.7, 2))), "mttr").kind ==
        change_kind::regression);
}

namespace {
// `runs` with a process probe series whose latencies (the time to read /proc) are `factor` times
// the load's: they say nothing about the system under test.
std::vector<reports::journal> with_process_probe(std::vector<reports::journal> runs, double factor) {
  for (auto& j : runs) {
    std::vector<reports::phase_stat> added;
    for (const auto& s : j.analysis.phase_stats)
      if (s.series == "load") {
        auto p = s;
        p.series = "shop.rss";
        *p.p95 *= factor;
        *p.p99 *= factor;
        added.push_back(p);
      }
    j.analysis.phase_stats.insert(j.analysis.phase_stats.end(), added.begin(), added.end());
    j.series.push_back({"shop.rss", "process", {}});
  }
  return runs;
}
}  // namespace

TEST_CASE("run sets and diff: a resource probe's read times are not compared between runs", "[reports]") {
  const auto before = with_process_probe(run_set(5, 1, 7), 1);
  const auto after = with_process_probe(run_set(5, 1, 8), 4);  // /proc read four times slower: a busier machine
  const auto d = reports::compare_sets(before, after, options());
  CHECK_FALSE(d.regressed());
  for (const auto& c : d.changes) {
    INFO(c.metric);
    CHECK(c.metric.find("p95 shop.rss") == std::string::npos);
    CHECK(c.metric.find("p99 shop.rss") == std::string::npos);
  }
  CHECK(find_change(d, "error_rate shop.rss/fault").metric == "error_rate shop.rss/fault");  // its errors still count
  const auto single = reports::compare_runs(before.front(), after.front());
  for (const auto& c : single.changes) {
    INFO(c.metric);
    CHECK(c.metric.find("p99 shop.rss") == std::string::npos);
  }
}
