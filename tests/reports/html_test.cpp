#include "reports/html.hpp"
#include "reports/journal.hpp"
#include "reports/margins.hpp"
#include "tests/reports/svg_reader.hpp"
#include "tests/reports/synthetic_journal.hpp"
#include "tests/support/command.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace faultline;
using Catch::Contains;

namespace {

reports::journal recorded() { return reports::read_journal(std::string(FAULTLINE_REPORTS_TEST_DATA) + "/checkout-journal.json"); }

std::string figure_of(const std::string& html) {
  auto start = html.find("<svg class=\"timeline\"");
  REQUIRE(start != std::string::npos);
  auto end = html.find("</svg>", start);
  return html.substr(start, end + 6 - start);
}

// Pixels are written with two decimals: a value read back is exact to a hundredth of a pixel.
double pixel_tolerance(double domain, double pixels) { return std::fabs(domain / pixels) * 0.011; }

void check_line(const std::string& svg, const std::string& panel, const std::string& series,
                const std::vector<std::pair<double, std::optional<double>>>& expected) {
  auto scales = test::panel_scales_of(svg, panel);
  auto runs = test::line_points(test::panel_markup(svg, panel), scales, series);
  std::vector<std::pair<double, double>> drawn;
  for (const auto& run : runs) drawn.insert(drawn.end(), run.begin(), run.end());
  std::vector<std::pair<double, double>> want;
  std::size_t want_runs = 0;
  bool in_run = false;
  for (const auto& [t, v] : expected) {
    if (v) want.emplace_back(t, *v);
    if (v && !in_run) ++want_runs;
    in_run = v.has_value();
  }
  INFO(panel << " " << series);
  REQUIRE(drawn.size() == want.size());
  CHECK(runs.size() == want_runs);
  double dt = pixel_tolerance(scales.t1 - scales.t0, scales.x1 - scales.x0);
  double dv = pixel_tolerance(scales.v1 - scales.v0, scales.y1 - scales.y0);
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("point " << i << " at t=" << want[i].first);
    CHECK(drawn[i].first == Approx(want[i].first).margin(dt));
    CHECK(drawn[i].second == Approx(want[i].second).margin(dv));
  }
}

void check_all_lines(const reports::journal& j, const std::string& svg) {
  const auto& load = j.series[0];
  std::vector<std::pair<double, std::optional<double>>> p50, p95, p99, rps, errors;
  for (const auto& w : load.windows) {
    double mid = w.start + j.window / 2;
    p50.emplace_back(mid, w.p50);
    p95.emplace_back(mid, w.p95);
    p99.emplace_back(mid, w.p99);
    rps.emplace_back(mid, static_cast<double>(w.count) / j.window);
    errors.emplace_back(mid, w.count ? std::optional<double>(static_cast<double>(w.errors) / static_cast<double>(w.count)) : std::nullopt);
  }
  check_line(svg, "latency", "p50", p50);
  check_line(svg, "latency", "p95", p95);
  check_line(svg, "latency", "p99", p99);
  check_line(svg, "throughput", "rps", rps);
  check_line(svg, "error_rate", "error_rate", errors);
}

}  // namespace

TEST_CASE("HTML: the charts carry the journal's points", "[reports]") {
  auto j = recorded();
  auto svg = figure_of(reports::render_html(j));
  check_all_lines(j, svg);
  // The fault windows stand out: the highest p99 drawn is the journal's highest.
  double top = 0;
  for (const auto& w : j.series[0].windows) top = std::max(top, *w.p99);
  auto scales = test::panel_scales_of(svg, "latency");
  CHECK(scales.v1 >= top);
  CHECK(scales.v1 < top * 1.5);
}

TEST_CASE("HTML: the charts of a schema version 1 journal carry its points", "[reports]") {
  auto j = reports::read_journal(std::string(FAULTLINE_REPORTS_TEST_DATA) + "/checkout-journal-v1.json");
  check_all_lines(j, figure_of(reports::render_html(j)));
}

TEST_CASE("HTML: phases, faults, breaker, MTTD and MTTR sit at their times", "[reports]") {
  auto j = recorded();
  auto svg = figure_of(reports::render_html(j));
  auto scales = test::panel_scales_of(svg, "latency");
  auto panel = test::panel_markup(svg, "latency");
  double dt = pixel_tolerance(scales.t1 - scales.t0, scales.x1 - scales.x0);
  auto time_of = [&](const std::string& tag, const char* attr) { return scales.time_at(test::number_attr(tag, attr)); };

  for (const auto& p : j.phases) {
    auto rects = test::find_tags(panel, "rect", {{"data-phase", p.name}});
    REQUIRE(rects.size() == 1);
    double x = test::number_attr(rects[0], "x");
    CHECK(scales.time_at(x) == Approx(p.start).margin(dt));
    CHECK(scales.time_at(x + test::number_attr(rects[0], "width")) == Approx(p.end).margin(2 * dt));
  }
  for (const auto& f : j.faults) {
    INFO(f.step);
    auto starts = test::find_tags(panel, "line", {{"class", f.action ? "action-start" : "fault-start"}, {"data-step", f.step}});
    REQUIRE(starts.size() == 1);
    CHECK(time_of(starts[0], "x1") == Approx(*f.injected_at).margin(dt));
    if (!f.action) {
      auto ends = test::find_tags(panel, "line", {{"class", "fault-end"}, {"data-step", f.step}});
      REQUIRE(ends.size() == 1);
      CHECK(time_of(ends[0], "x1") == Approx(*f.reverted_at).margin(dt));
    }
    auto bars = test::find_tags(svg, "rect", {{"data-step", f.step}});
    REQUIRE(bars.size() == 1);
    CHECK(time_of(bars[0], "x") == Approx(*f.injected_at).margin(dt));
  }

  // The breaker band: closed, open, half-open (the trial at 27s), open again, half-open, closed.
  auto band_start = svg.find("data-band=\"breaker\"");
  REQUIRE(band_start != std::string::npos);
  auto band = svg.substr(band_start, svg.find("</g>", band_start) - band_start);
  auto segments = test::find_tags(band, "rect");
  std::vector<std::string> states;
  for (const auto& s : segments) states.push_back(test::attributes_of(s)["data-state"]);
  CHECK(states == std::vector<std::string>{"closed", "open", "half_open", "open", "half_open", "closed"});
  const auto& transitions = j.analysis.breaker->transitions;
  REQUIRE(segments.size() == transitions.size() + 1);
  for (std::size_t i = 0; i < transitions.size(); ++i) {
    CHECK(time_of(segments[i + 1], "x") == Approx(transitions[i].at).margin(dt));
    CHECK(test::number_attr(segments[i + 1], "data-start") == transitions[i].at);
  }
  CHECK(test::attributes_of(segments[1])["class"] == "breaker-open");

  // MTTD from the first inject, MTTR from the last revert, on the time axis and as markers.
  auto mttd = test::find_tags(svg, "g", {{"class", "annotation mttd"}});
  REQUIRE(mttd.size() == 1);
  CHECK(test::number_attr(mttd[0], "data-from") == 15);
  CHECK(test::number_attr(mttd[0], "data-to") == 16);
  auto mttr = test::find_tags(svg, "g", {{"class", "annotation mttr"}});
  REQUIRE(mttr.size() == 1);
  CHECK(test::number_attr(mttr[0], "data-from") == 45);
  CHECK(test::number_attr(mttr[0], "data-to") == 49);
  CHECK_THAT(svg, Contains(">MTTD 1s</text>"));
  CHECK_THAT(svg, Contains(">MTTR 4s</text>"));
  auto recovered = test::find_tags(panel, "line", {{"class", "marker-recovered"}});
  REQUIRE(recovered.size() == 1);
  CHECK(time_of(recovered[0], "x1") == Approx(49).margin(dt));
  auto detected = test::find_tags(panel, "line", {{"class", "marker-detected"}});
  REQUIRE(detected.size() == 1);
  CHECK(time_of(detected[0], "x1") == Approx(16).margin(dt));

  // The health probe's band: failing while PostgreSQL was slow and the breaker still closed.
  auto health = test::find_tags(svg, "rect", {{"class", "probe-failing"}});
  REQUIRE(health.size() == 1);
  CHECK(time_of(health[0], "x") == Approx(16).margin(dt));
  CHECK(scales.time_at(test::number_attr(health[0], "x") + test::number_attr(health[0], "width")) == Approx(17).margin(2 * dt));
}

TEST_CASE("HTML: verdict, score and tier first, then expectations and evidence, nothing fetched", "[reports]") {
  auto j = recorded();
  auto html = reports::render_html(j);
  auto verdict = html.find("data-result=\"failed\"");
  auto score = html.find("data-score=\"" + nlohmann::json(j.analysis.score).dump() + "\"");
  auto tier = html.find("data-tier=\"bronze\"");
  auto chart = html.find("<svg class=\"timeline\"");
  auto table = html.find("id=\"expectations\"");
  REQUIRE(verdict != std::string::npos);
  REQUIRE(score != std::string::npos);
  REQUIRE(tier != std::string::npos);
  CHECK(verdict < score);
  CHECK(score < chart);
  CHECK(tier < chart);
  CHECK(chart < table);
  CHECK_THAT(html, Contains("text-anchor=\"middle\">77.8</text></svg>"));
  CHECK_THAT(html, Contains("1 of 9 expectations missed: sla (measured bronze (availability"));

  CHECK(test::find_tags(html, "tr", {{"data-expectation", "sla"}}).size() == 1);
  std::size_t rows = 0;
  for (const auto& tag : test::find_tags(html, "tr"))
    if (test::attributes_of(tag).count("data-expectation")) ++rows;
  CHECK(rows == j.analysis.expectations.size());
  CHECK_THAT(html, Contains("<span class=\"pill missed\">missed</span></td><td><div class=\"expectation-name mono\">sla</div>"));
  CHECK_THAT(html, Contains("<article class=\"fault\" data-step=\"pg-latency\">"));
  CHECK_THAT(html, Contains("<span class=\"pill observed\">applied and observed</span>"));
  CHECK_THAT(html, Contains("delayed 6,118 responses by 806ms on average on 24 connections"));
  CHECK_THAT(html, Contains("<dt>responses_delayed</dt><dd class=\"mono\">6,118</dd>"));
  CHECK_THAT(html, Contains("512/512 keys written"));

  // Self-contained: no script, no stylesheet or image from elsewhere.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
}

TEST_CASE("HTML: the figure is well-formed SVG", "[reports]") {
  auto svg = figure_of(reports::render_html(recorded()));
  auto path = std::filesystem::temp_directory_path() / ("faultline-figure-" + std::to_string(::getpid()) + ".svg");
  std::ofstream(path) << svg;
  auto check = test::run_command("xmllint --noout " + path.string());
  INFO(check.output);
  CHECK(check.exit_code == 0);
  std::filesystem::remove(path);
}

TEST_CASE("HTML: a window without samples breaks the lines, other runs render too", "[reports]") {
  auto j = test::synthetic_journal();
  auto& w = j.series[0].windows[30];
  w = reports::window_point{};
  w.start = 30;
  auto svg = figure_of(reports::render_html(j));
  check_all_lines(j, svg);
  auto scales = test::panel_scales_of(svg, "latency");
  CHECK(test::line_points(test::panel_markup(svg, "latency"), scales, "p99").size() == 2);
  // Throughput is zero in that window, not missing.
  CHECK(test::line_points(test::panel_markup(svg, "throughput"), test::panel_scales_of(svg, "throughput"), "rps").size() == 1);

  auto never = test::synthetic_journal();
  never.analysis.mttr.reset();
  never.analysis.recovered = false;
  never.analysis.breaker.reset();
  never.faults[1].reverted_at.reset();
  auto html = reports::render_html(never);
  CHECK_THAT(html, Contains(">not recovered</text>"));
  CHECK(html.find("data-band=\"breaker\"") == std::string::npos);
  CHECK_THAT(html, Contains("<dt>reverted</dt><dd>never</dd>"));
  CHECK(test::find_tags(html, "rect", {{"class", "fault-bar unreverted"}}).size() == 1);

  reports::journal empty;
  empty.experiment.name = "nothing-measured";
  empty.verdict = {"error", 4, "the load generator could not start"};
  auto bare = reports::render_html(empty);
  CHECK(bare.find("<svg class=\"timeline\"") == std::string::npos);
  CHECK_THAT(bare, Contains("the load generator could not start"));
  CHECK_THAT(bare, Contains("The experiment states no expectations."));
}

TEST_CASE("HTML: breaker transitions at their sub-second times, each with its resolution", "[reports]") {
  auto j = test::synthetic_journal();
  const auto html = reports::render_html(j);
  const auto svg = figure_of(html);
  auto band_start = svg.find("data-band=\"breaker\"");
  REQUIRE(band_start != std::string::npos);
  auto band = svg.substr(band_start, svg.find("</g>", band_start) - band_start);
  auto segments = test::find_tags(band, "rect");
  REQUIRE(segments.size() == 6);
  // The half-open trial of 300 ms is drawn where it was, as long as it was.
  CHECK(test::number_attr(segments[2], "data-start") == Approx(27));
  CHECK(test::number_attr(segments[2], "data-end") == Approx(27.3));
  CHECK_THAT(band, Contains("<title>breaker half-open from 27s ±10ms to 27.3s (300ms long)</title>"));
  // The breaker card: each time with its resolution, each transition with who saw it.
  CHECK_THAT(html, Contains("Time to open 612ms ±10ms after the fault started, time to close 3s ±100ms after the last revert"));
  CHECK_THAT(html, Contains("<td>612ms ±10ms after the fault started</td>"));
  CHECK_THAT(html, Contains("<td>3s ±100ms after the last revert</td>"));
  CHECK_THAT(html, Contains("<td>probe+load</td>"));
  CHECK_THAT(html, Contains("fault start → steady state broken (±10ms)"));
}

TEST_CASE("HTML: an HTTP fault's requests by route, a table from the journal's evidence", "[reports]") {
  auto j = recorded();
  j.faults.push_back(test::http_fault_with_routes());
  // As a report of a journal read back from its JSON.
  const auto html = reports::render_html(reports::journal_from_json(reports::to_json(j)));
  CHECK_THAT(html, Contains("<table class=\"compact routes\">"));
  CHECK_THAT(html, Contains("<tr data-route=\"POST /payments\"><td class=\"mono\">POST /payments</td><td class=\"num\">2,990</td>"
                            "<td class=\"num\">2,990</td><td class=\"num\">2,960</td></tr>"));
  CHECK_THAT(html, Contains("<tr data-route=\"GET /health\"><td class=\"mono\">GET /health</td><td class=\"num\">20</td>"
                            "<td class=\"num\">0</td><td class=\"num\">0</td></tr>"));
  CHECK(html.find("data-route=\"POST /payments\"") < html.find("data-route=\"GET /health\""));  // busiest first
  CHECK(test::find_tags(html, "tr").size() > 2);
  CHECK(html.find("<dt>routes.") == std::string::npos);  // not also as dotted keys
  CHECK_THAT(html, Contains("<dt>seen</dt><dd class=\"mono\">3,010</dd>"));
  // Faults without routes get no table.
  CHECK(html.find("<table class=\"compact routes\">") == html.rfind("<table class=\"compact routes\">"));
}

TEST_CASE("HTML: each expectation's margin with its interval, borderline marked", "[reports]") {
  auto j = test::synthetic_journal();
  for (auto& e : j.analysis.expectations)
    if (e.name == "during_fault[0]")
      e.margins = {reports::make_margin("error_rate load/fault", "fraction", 0.04, 0.05, reports::bound_kind::at_most,
                                        reports::stats::interval{0.03, 0.055}, "windows")};
  auto html = reports::render_html(j);
  CHECK_THAT(html, Contains("<th>Margin</th>"));
  auto row = test::find_tags(html, "tr", {{"data-expectation", "during_fault[0]"}});
  REQUIRE(row.size() == 1);
  CHECK(test::attributes_of(row[0])["data-borderline"] == "true");
  CHECK_THAT(html, Contains("error_rate load/fault</span> +1 pp [-0.5 pp, +2 pp] <span class=\"pill other\">borderline</span>"));
  CHECK(test::find_tags(html, "tr", {{"data-expectation", "mttr"}, {"data-borderline", "true"}}).empty());
}
