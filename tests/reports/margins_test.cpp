#include "reports/margins.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using reports::bound_kind;

TEST_CASE("margins: signed distance to the target, its interval, borderline when the interval spans the target", "[reports]") {
  // p95 <= 200ms measured 150ms, known within 120..190ms: 50ms to spare, at least 10ms.
  auto m = reports::make_margin("p95 load/fault", "seconds", 0.150, 0.200, bound_kind::at_most, reports::stats::interval{0.120, 0.190}, "windows");
  CHECK(m.margin == Approx(0.050));
  CHECK(*m.low == Approx(0.010));
  CHECK(*m.high == Approx(0.080));
  CHECK(m.basis == "windows");
  CHECK_FALSE(m.borderline);
  CHECK(reports::format_margin(m) == "+50ms [+10ms, +80ms]");

  // The same value known within 120..230ms: it might be above the target.
  auto wide = reports::make_margin("p95 load/fault", "seconds", 0.150, 0.200, bound_kind::at_most, reports::stats::interval{0.120, 0.230}, "windows");
  CHECK(*wide.low == Approx(-0.030));
  CHECK(wide.borderline);
  CHECK(reports::format_margin(wide) == "+50ms [-30ms, +80ms] borderline");

  // availability >= 99.9% measured 99.5%: missed by 0.4 percentage points, beyond doubt.
  auto a = reports::make_margin("availability load/fault", "fraction", 0.995, 0.999, bound_kind::at_least, reports::stats::interval{0.993, 0.997}, "windows");
  CHECK(a.margin == Approx(-0.004));
  CHECK(*a.low == Approx(-0.006));
  CHECK(*a.high == Approx(-0.002));
  CHECK_FALSE(a.borderline);
  CHECK(reports::format_margin(a) == "-0.4 pp [-0.6 pp, -0.2 pp]");

  // No spread known: a margin without an interval is never borderline.
  auto flaps = reports::make_margin("breaker flaps", "count", 2, 1, bound_kind::at_most, std::nullopt, "");
  CHECK(flaps.margin == -1);
  CHECK_FALSE(flaps.low);
  CHECK_FALSE(flaps.borderline);
  CHECK(flaps.basis.empty());
  CHECK(reports::format_margin(flaps) == "-1");

  // An interval of width 0 at the target is not "spanning" it.
  CHECK_FALSE(reports::make_margin("x", "number", 1, 1, bound_kind::at_most, reports::stats::interval{1, 1}, "windows").borderline);
}

TEST_CASE("margins: across runs, the median margin and its interval, borderline when runs fall either side", "[reports]") {
  auto run = [](double margin) { return reports::make_margin("mttr", "seconds", 10 - margin, 10, bound_kind::at_most, std::nullopt, ""); };
  auto clear = reports::margin_across_runs({run(4), run(5), run(4.5), run(6), run(5.5)});
  CHECK(clear.margin == Approx(5));
  CHECK(clear.basis == "runs");
  REQUIRE(clear.low);
  CHECK(*clear.low >= 4);
  CHECK(*clear.high <= 6);
  CHECK_FALSE(clear.borderline);

  auto split = reports::margin_across_runs({run(-0.4), run(0.3), run(0.1), run(-0.2), run(0.5)});
  CHECK(split.margin == Approx(0.1));
  CHECK(split.borderline);

  auto one = reports::margin_across_runs({run(2)});
  CHECK_FALSE(one.low);
  CHECK_FALSE(one.borderline);
}

TEST_CASE("margins: within-run spread from windows, and the tier range it gives", "[reports]") {
  std::vector<double> rates{0.01, 0.02, 0.0, 0.01, 0.03, 0.01, 0.02, 0.0};
  auto mean = reports::spread_of_mean(0.0125, rates);
  CHECK(mean.low < 0.0125);
  CHECK(mean.high > 0.0125);
  CHECK(mean.low >= 0.0);
  CHECK(mean.high <= 0.03);
  // Identical windows: no spread.
  std::vector<double> flat{0.2, 0.2, 0.2, 0.2};
  auto q = reports::spread_of_quantile(0.25, flat);
  CHECK(q.low == Approx(0.25));
  CHECK(q.high == Approx(0.25));
  CHECK(reports::spread_of_mean(0.5, std::vector<double>{0.4}).low == 0.5);  // one window: the figure alone

  std::vector<reports::tier_bound> tiers{{"bronze", 0.99, 1}, {"silver", 0.995, 0.5}, {"gold", 0.999, 0.2}, {"platinum", 0.9995, 0.1}};
  CHECK(reports::tier_at(tiers, 0.9996, 0.09) == "platinum");
  CHECK(reports::tier_at(tiers, 0.98, 0.09) == "none");
  auto r = reports::tier_range_between(tiers, {0.9992, 0.9998}, {0.08, 0.15});
  CHECK(r.low == "gold");
  CHECK(r.high == "platinum");
  CHECK(r.borderline());
  CHECK(r.text() == "gold..platinum");
}

TEST_CASE("margins: one line per margin for the terminal, nothing without margins", "[reports]") {
  reports::expectation_record e;
  e.name = "during_fault[0]";
  e.margins.push_back(reports::make_margin("p95 load/fault", "seconds", 0.15, 0.2, bound_kind::at_most, reports::stats::interval{0.12, 0.23}, "windows"));
  auto text = reports::render_margins_text({e});
  CHECK_THAT(text, Catch::Contains("during_fault[0]  p95 load/fault  +50ms [-30ms, +80ms] borderline"));
  reports::expectation_record plain;
  plain.name = "steady_after";
  CHECK(reports::render_margins_text({plain}).empty());
  CHECK(e.borderline());
  CHECK_FALSE(plain.borderline());
}
