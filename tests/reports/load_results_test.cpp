#include "reports/load_results.hpp"

#include "reports/html.hpp"
#include "reports/markdown.hpp"
#include "tests/reports/svg_reader.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using namespace faultline::reports;

namespace {

analysis_record levels_run() {
  analysis_record a;
  a.levels.push_back({"100-users", "100 users", 0, 60, 5980, 99.7, 0, 0.004, 0.012, 0.02,
                      {{"load.p95 < 50ms", true, "12ms"}}, true});
  a.levels.push_back({"1000-users", "1000 users", 60, 120, 41000, 683, 0.02, 0.05, 0.18, 0.4,
                      {{"load.p95 < 100ms", false, "180ms"}, {"load.error_rate < 5%", true, "2%"}}, false});
  return a;
}

capacity_point trial(double rate, double p99, bool held, std::string broken = {}) {
  capacity_point t;
  t.rate = rate;
  t.achieved = held ? rate : rate * 0.8;
  t.count = static_cast<std::uint64_t>(rate * 8);
  t.p50 = p99 / 4;
  t.p95 = p99 / 2;
  t.p99 = p99;
  t.held = held;
  t.broken = std::move(broken);
  return t;
}

analysis_record capacity_run() {
  analysis_record a;
  capacity_search_record healthy;
  healthy.condition = "healthy";
  healthy.trials = {trial(100, 0.01, true), trial(400, 0.3, false, "load.p99 < 100ms"), trial(200, 0.02, true),
                    trial(300, 0.09, true)};
  healthy.capacity = 300;
  healthy.broke_at = 400;
  capacity_search_record under;
  under.condition = "under_fault";
  under.faults = "latency on postgres (latency 500ms)";
  under.trials = {trial(100, 0.08, true), trial(200, 0.6, false, "load.p99 < 100ms")};
  under.capacity = 100;
  under.broke_at = 200;
  a.capacity = {healthy, under};
  return a;
}

}  // namespace

TEST_CASE("load results: one row per level with its numbers and which rules held", "[reports]") {
  const auto a = levels_run();
  const auto md = levels_markdown(a);
  CHECK(md.find("| ✅ | 100-users | 100 users | 100/s | 4ms | 12ms | 20ms | 0% | held load.p95 < 50ms (measured 12ms) |") !=
        std::string::npos);
  CHECK(md.find("| ❌ | 1000-users | 1000 users | 683/s | 50ms | 180ms | 400ms | 2% | missed load.p95 < 100ms (measured 180ms); "
                "held load.error_rate < 5% (measured 2%) |") != std::string::npos);
  const auto html = levels_html(a);
  CHECK(test::find_tags(html, "tr", {{"data-level", "1000-users"}}).size() == 1);
  CHECK(html.find("<span class=\"pill missed\">missed</span>") != std::string::npos);

  journal j;
  j.analysis = a;
  CHECK(render_markdown(j).find(md) != std::string::npos);
  CHECK(render_html(j).find(html) != std::string::npos);
  CHECK(levels_markdown(analysis_record{}).empty());
  CHECK(levels_html(analysis_record{}).empty());
}

TEST_CASE("load results: each capacity search as a table sorted by rate and a curve that maps back to the trials", "[reports]") {
  const auto a = capacity_run();
  const auto md = capacity_markdown(a);
  CHECK(md.find("**Capacity, healthy**: capacity 300/s, broke at 400/s") != std::string::npos);
  CHECK(md.find("**Capacity, while latency on postgres (latency 500ms)**: capacity 100/s, broke at 200/s") != std::string::npos);
  // Trials in rate order, whatever order the search ran them in.
  const auto r200 = md.find("| 200/s | 200/s |");
  const auto r300 = md.find("| 300/s | 300/s |");
  const auto r400 = md.find("| 400/s | 320/s |");
  REQUIRE(r200 != std::string::npos);
  CHECK(r200 < r300);
  CHECK(r300 < r400);
  CHECK(md.find("| broke load.p99 < 100ms |") != std::string::npos);

  const auto html = capacity_html(a);
  const auto scales = test::panel_scales_of(html, "capacity");
  const auto panel = test::panel_markup(html, "capacity");
  const auto healthy = test::line_points(panel, scales, "healthy");
  REQUIRE(healthy.size() == 1);
  REQUIRE(healthy[0].size() == 4);
  const std::vector<std::pair<double, double>> expected{{100, 0.01}, {200, 0.02}, {300, 0.09}, {400, 0.3}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(healthy[0][i].first == Approx(expected[i].first).margin(1));
    CHECK(healthy[0][i].second == Approx(expected[i].second).margin(0.002));
  }
  const auto under = test::line_points(panel, scales, "under_fault");
  REQUIRE(under.size() == 1);
  CHECK(under[0].size() == 2);
  CHECK(test::find_tags(panel, "circle").size() == 6);
  CHECK(test::find_tags(panel, "circle", {{"data-rate", "400"}, {"data-p99", "0.3"}}).size() == 1);
  CHECK(capacity_html(analysis_record{}).empty());
  CHECK(capacity_markdown(analysis_record{}).empty());
}
