#include "reports/output.hpp"
#include "reports/suite.hpp"
#include "tests/reports/svg_reader.hpp"
#include "tests/reports/synthetic_journal.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace faultline;

namespace {

std::vector<reports::journal> three_runs() {
  auto failed = test::synthetic_journal();
  auto passed = test::synthetic_journal();
  passed.experiment.name = "cache-flush";
  passed.verdict = {"passed", 0, "all 9 expectations met"};
  passed.analysis.score = 100;
  for (auto& e : passed.analysis.expectations) e.met = true;
  auto again = test::synthetic_journal();  // the same experiment twice: its pages must not collide
  again.verdict = {"aborted", 3, "interrupted by SIGINT"};
  return {failed, passed, again};
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("suite summary: counts, exit code and mean score", "[reports]") {
  auto runs = three_runs();
  auto suite = reports::summarize_suite("nightly", runs);
  CHECK(suite.runs.size() == 3);
  CHECK(suite.count("passed") == 1);
  CHECK(suite.count("failed") == 1);
  CHECK(suite.exit_code() == 3);
  CHECK(*suite.mean_score() == Approx((runs[0].analysis.score * 2 + 100) / 3));
  CHECK(suite.runs[0].expectations_met == 8);
  CHECK(suite.runs[1].expectations_met == 9);

  auto md = reports::render_suite_markdown(suite);
  CHECK_THAT(md, Catch::StartsWith("## ❌ nightly: 1 of 3 experiments passed\n"));
  CHECK_THAT(md, Catch::Contains("| ✅ | cache-flush | 100 | bronze | 9/9 | 4s |"));
  CHECK_THAT(md, Catch::Contains("| ⚠️ | checkout-db-slowness | 77.8 | bronze | 8/9 | 4s |"));
}

TEST_CASE("suite reports: one page per run, an index linking them, one JUnit file", "[reports]") {
  auto runs = three_runs();
  auto dir = std::filesystem::temp_directory_path() / ("faultline-suite-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto written = reports::write_suite_reports(runs, {"nightly", dir / "html", dir / "junit.xml", dir / "summary.md", {}});
  CHECK(written.size() == 6);
  CHECK(reports::suite_page_names(runs) == std::vector<std::string>{"checkout-db-slowness.html", "cache-flush.html", "checkout-db-slowness-2.html"});
  for (const auto& page : reports::suite_page_names(runs)) CHECK(std::filesystem::exists(dir / "html" / page));

  auto index = slurp(dir / "html" / "index.html");
  CHECK_THAT(index, Catch::Contains("<h1>nightly</h1>"));
  CHECK_THAT(index, Catch::Contains("1 of 3 experiments passed"));
  CHECK_THAT(index, Catch::Contains("<a href=\"cache-flush.html\">cache-flush</a>"));
  CHECK_THAT(index, Catch::Contains("<a href=\"checkout-db-slowness-2.html\">checkout-db-slowness</a>"));
  CHECK(test::find_tags(index, "tr", {{"data-experiment", "cache-flush"}}).size() == 1);
  CHECK(index.find("<script") == std::string::npos);

  auto junit = slurp(dir / "junit.xml");
  CHECK(test::find_tags(junit, "testsuite").size() == 3);
  auto md = slurp(dir / "summary.md");
  CHECK_THAT(md, Catch::Contains("## ✅ cache-flush: Passed"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a report that cannot be written names the file", "[reports]") {
  CHECK_THROWS_WITH(reports::write_text_file("/proc/faultline/x.html", "x"), Catch::StartsWith("/proc/faultline/x.html: cannot"));
}
