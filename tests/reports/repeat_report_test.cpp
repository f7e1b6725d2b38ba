#include "reports/repeat_report.hpp"
#include "tests/reports/svg_reader.hpp"
#include "tests/reports/synthetic_journal.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace faultline;
using Catch::Contains;

namespace {

// Five runs of the synthetic experiment: scores and MTTRs that vary, and an mttr margin (target
// 10s) known to ±0.1s in each run; the p95 margin of run 3 falls below its target.
std::vector<reports::journal> five_runs() {
  std::vector<reports::journal> out;
  const double scores[] = {80, 84, 70, 82, 90};
  const double mttrs[] = {4, 4.5, 9.95, 5, 3.8};
  const double p95_margins[] = {0.02, 0.01, -0.015, 0.03, 0.005};
  for (int i = 0; i < 5; ++i) {
    auto j = test::synthetic_journal();
    j.analysis.score = scores[i];
    j.analysis.mttr = mttrs[i];
    j.verdict.result = p95_margins[i] < 0 ? "failed" : "passed";
    j.verdict.exit_code = p95_margins[i] < 0 ? 1 : 0;
    for (auto& e : j.analysis.expectations) {
      if (e.name == "mttr")
        e.margins = {reports::make_margin("mttr", "seconds", mttrs[i], 10, reports::bound_kind::at_most,
                                          reports::stats::interval{mttrs[i] - 0.1, mttrs[i] + 0.1}, "resolution")};
      if (e.name == "during_fault[0]") {
        e.margins = {reports::make_margin("p95 load/fault", "seconds", 0.2 - p95_margins[i], 0.2, reports::bound_kind::at_most, std::nullopt, "")};
        e.met = p95_margins[i] >= 0;
      }
    }
    out.push_back(j);
  }
  return out;
}

// The row of `figure` in the spread chart: its start tag and its markup up to its end.
std::pair<std::string, std::string> row_of(const std::string& svg, const std::string& figure) {
  auto tags = test::find_tags(svg, "g", {{"data-figure", figure}});
  REQUIRE(tags.size() == 1);
  auto start = svg.find(tags[0]);
  auto end = svg.find("</g>", start);
  return {tags[0], svg.substr(start, end - start)};
}

// A pixel x mapped back to a value through the row's scale.
double value_at(const std::string& row_tag, double x) {
  auto attrs = test::attributes_of(row_tag);
  double d0, d1, r0, r1;
  std::sscanf(attrs.at("data-x-domain").c_str(), "%lf %lf", &d0, &d1);
  std::sscanf(attrs.at("data-x-range").c_str(), "%lf %lf", &r0, &r1);
  return d0 + (x - r0) * (d1 - d0) / (r1 - r0);
}

}  // namespace

TEST_CASE("repeat report: the HTML shows each run as a point and the median's interval as a band, per figure", "[reports]") {
  auto runs = five_runs();
  auto summary = reports::summarize_repeats(runs);
  auto html = reports::render_repeat_html(summary, {"a.html", "b.html", "c.html", "d.html", "e.html"});
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // nothing fetched: only the SVG namespace
  auto start = html.find("<svg class=\"spread\"");
  REQUIRE(start != std::string::npos);
  auto svg = html.substr(start, html.find("</svg>", start) + 6 - start);

  for (const char* name : {"score", "mttr"}) {
    INFO(name);
    const reports::repeat_figure* f = nullptr;
    for (const auto& g : summary.figures)
      if (g.name == name) f = &g;
    REQUIRE(f);
    auto [tag, row] = row_of(svg, name);
    auto points = test::find_tags(row, "circle", {{"class", "run"}});
    REQUIRE(points.size() == f->values.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
      CHECK(test::number_attr(points[i], "data-run") == static_cast<double>(f->runs[i]));
      CHECK(test::number_attr(points[i], "data-value") == Approx(f->values[i]));
      // Drawn where its value is, to a hundredth of a pixel.
      CHECK(value_at(tag, test::number_attr(points[i], "cx")) == Approx(f->values[i]).margin(std::fabs(f->values[i]) * 1e-3 + 1e-3));
    }
    auto band = test::find_tags(row, "rect", {{"class", "band"}});
    REQUIRE(band.size() == 1);
    REQUIRE(f->interval);
    double x = test::number_attr(band[0], "x"), w = test::number_attr(band[0], "width");
    CHECK(value_at(tag, x) == Approx(f->interval->low).margin(0.01));
    CHECK(value_at(tag, x + w) == Approx(f->interval->high).margin(0.01));
    CHECK(test::number_attr(tag, "data-low") == Approx(f->interval->low));
    CHECK(test::number_attr(tag, "data-high") == Approx(f->interval->high));
    auto median = test::find_tags(row, "line", {{"class", "median"}});
    REQUIRE(median.size() == 1);
    CHECK(value_at(tag, test::number_attr(median[0], "x1")) == Approx(f->median).margin(0.01));
  }

  // Margins: the target at 0; the p95 margin's runs fall either side of it: borderline.
  auto [p95_tag, p95_row] = row_of(svg, "margin during_fault[0] · p95 load/fault");
  CHECK_THAT(p95_tag, Contains("borderline"));
  auto target = test::find_tags(p95_row, "line", {{"class", "target"}});
  REQUIRE(target.size() == 1);
  CHECK(value_at(p95_tag, test::number_attr(target[0], "x1")) == Approx(0).margin(1e-4));
  auto [mttr_tag, mttr_row] = row_of(svg, "margin mttr");
  CHECK(test::find_tags(mttr_row, "circle", {{"class", "run"}}).size() == 5);
  CHECK(mttr_tag.find("borderline") == std::string::npos);
  CHECK_THAT(html, Contains("data-expectation=\"during_fault[0]\" data-borderline=\"true\""));
  CHECK_THAT(html, Contains("<a href=\"c.html\">c.html</a>"));
  CHECK_THAT(html, Contains("data-outcome=\"flaky\""));
  // The per-run bar: run 3 failed.
  CHECK_THAT(html, Contains("title=\"run 3: failed\""));
}

TEST_CASE("repeat report: Markdown and JSON carry the figures and the margins across runs", "[reports]") {
  auto summary = reports::summarize_repeats(five_runs());
  auto md = reports::render_repeat_markdown(summary);
  CHECK_THAT(md, Contains("passed 4 of 5: flaky"));
  CHECK_THAT(md, Contains("| `during_fault[0]` | p95 load/fault |"));
  CHECK_THAT(md, Contains("borderline"));
  auto doc = reports::repeat_summary_json(summary);
  CHECK(doc["runs"] == 5);
  CHECK(doc["exit_code"] == 5);
  CHECK(doc["results"][2] == "failed");
  bool found = false;
  for (const auto& m : doc["margins"])
    if (m["expectation"] == "mttr") {
      found = true;
      CHECK(m["margin"]["basis"] == "runs");
      CHECK(m["margin"]["margin"].get<double>() == Approx(10 - 4.5));
      CHECK(m["values"].size() == 5);
      CHECK_FALSE(m["margin"]["borderline"].get<bool>());
    }
  CHECK(found);
  CHECK(reports::render_spread_figure(reports::repeat_summary{}).empty());
}
