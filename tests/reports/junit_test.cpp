#include "reports/junit.hpp"
#include "tests/reports/svg_reader.hpp"
#include "tests/reports/synthetic_journal.hpp"
#include "tests/support/command.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace faultline;

namespace {

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-junit-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

// xmllint (Debian's libxml2-utils) against tests/reports/data/junit.xsd, which demands what both
// Ant's and Jenkins' JUnit schemas demand.
test::command_result validate(const std::string& xml, const std::string& name) {
  auto path = temp_path(name);
  std::ofstream(path) << xml;
  return test::run_command("xmllint --noout --schema " + std::string(FAULTLINE_REPORTS_TEST_DATA) + "/junit.xsd " + path.string());
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("JUnit: one testsuite per experiment, one testcase per expectation, valid under the schema", "[reports]") {
  auto j = test::synthetic_journal();
  auto xml = reports::render_junit(j);
  auto check = validate(xml, "one.xml");
  INFO(check.output);
  REQUIRE(check.exit_code == 0);

  auto suites = test::find_tags(xml, "testsuite");
  REQUIRE(suites.size() == 1);
  auto suite = test::attributes_of(suites[0]);
  CHECK(suite["name"] == "checkout-db-slowness");
  CHECK(suite["tests"] == "10");    // nine expectations and the verdict
  CHECK(suite["failures"] == "2");  // the missed SLA and the failed verdict
  CHECK(suite["errors"] == "0");
  CHECK(suite["timestamp"] == "2026-03-14T09:30:00");
  CHECK(suite["hostname"] == "ci-runner-7");
  CHECK(suite["time"] == "57.000");
  CHECK(occurrences(xml, "<testcase ") == 10);
  CHECK(occurrences(xml, "<failure ") == 2);

  auto sla = test::find_tags(xml, "testcase", {{"name", "sla: SLA tier gold during the fault (availability &gt;= 99.9%, p95 &lt;= 200ms)"}});
  REQUIRE(sla.size() == 1);
  auto failure = test::find_tags(xml, "failure", {{"type", "expectation_missed"}});
  REQUIRE(failure.size() == 1);
  CHECK(test::attributes_of(failure[0])["message"] == "measured " + j.analysis.expectations[0].measured + ", target &gt;= gold");
  CHECK_THAT(xml, Catch::Contains("<testcase name=\"mttr: time to recover: last revert to the start of a stable run of steady windows\" classname=\"faultline.checkout-db-slowness\" time=\"0.000\"/>"));
  CHECK_THAT(xml, Catch::Contains("<property name=\"faultline.score\" value=\"77.8\"/>"));
  CHECK_THAT(xml, Catch::Contains("<property name=\"faultline.mttr\" value=\"4s ±100ms\"/>"));
  CHECK_THAT(xml, Catch::Contains("<property name=\"faultline.breaker_time_to_open\" value=\"612ms ±10ms\"/>"));
  CHECK_THAT(xml, Catch::Contains("<property name=\"faultline.breaker_flaps\" value=\"1\"/>"));
}

TEST_CASE("JUnit: a suite gets consecutive ids and aborted runs are errors", "[reports]") {
  auto a = test::synthetic_journal();
  auto b = test::synthetic_journal();
  b.experiment.name = "cache-flush";
  b.verdict = {"not_steady", 1, "steady state not met before the faults: load.p95 was 340ms (< 200ms)"};
  b.analysis.expectations.clear();
  b.started_at = "";  // no timestamp recorded: still a valid document
  std::vector<reports::journal> runs{a, b};
  auto xml = reports::render_junit(runs);
  auto check = validate(xml, "suite.xml");
  INFO(check.output);
  REQUIRE(check.exit_code == 0);
  auto suites = test::find_tags(xml, "testsuite");
  REQUIRE(suites.size() == 2);
  CHECK(test::attributes_of(suites[0])["id"] == "0");
  CHECK(test::attributes_of(suites[1])["id"] == "1");
  CHECK(test::attributes_of(suites[1])["tests"] == "1");
  CHECK(test::attributes_of(suites[1])["errors"] == "1");
  auto error = test::find_tags(xml, "error", {{"type", "not_steady"}});
  REQUIRE(error.size() == 1);
  CHECK_THAT(test::attributes_of(error[0])["message"], Catch::StartsWith("steady state not met before the faults: load.p95 was 340ms (&lt; 200ms)"));
}

TEST_CASE("JUnit: markup and control characters in names and output stay valid", "[reports]") {
  auto j = test::synthetic_journal();
  j.experiment.name = "a <b> & \"c\" 'd'";
  j.analysis.expectations[0].description = "p95 < 200ms & error_rate > 0";
  j.analysis.expectations[0].measured = "\x1b[31m340ms\x1b[0m";
  j.faults[0].error = "revert failed: <reset> \x01";
  auto xml = reports::render_junit(j);
  auto check = validate(xml, "escaped.xml");
  INFO(check.output);
  CHECK(check.exit_code == 0);
  CHECK_THAT(xml, Catch::Contains("name=\"a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;\""));
}

TEST_CASE("JUnit: the schema check can fail", "[reports]") {
  // The validation above would prove nothing if the schema accepted anything.
  auto missing_type = validate(
      "<testsuites><testsuite name=\"x\" package=\"p\" id=\"0\" timestamp=\"2026-01-01T00:00:00\" hostname=\"h\" tests=\"1\" "
      "failures=\"1\" errors=\"0\" time=\"1\"><properties/><testcase name=\"t\" classname=\"c\" time=\"0\"><failure message=\"m\"/>"
      "</testcase><system-out/><system-err/></testsuite></testsuites>",
      "bad-failure.xml");
  CHECK(missing_type.exit_code != 0);
  auto zoned = validate(
      "<testsuites><testsuite name=\"x\" package=\"p\" id=\"0\" timestamp=\"2026-01-01T00:00:00Z\" hostname=\"h\" tests=\"0\" "
      "failures=\"0\" errors=\"0\" time=\"1\"><properties/><system-out/><system-err/></testsuite></testsuites>",
      "bad-timestamp.xml");
  CHECK(zoned.exit_code != 0);
  auto no_properties = validate(
      "<testsuites><testsuite name=\"x\" package=\"p\" id=\"0\" timestamp=\"2026-01-01T00:00:00\" hostname=\"h\" tests=\"0\" "
      "failures=\"0\" errors=\"0\" time=\"1\"><system-out/><system-err/></testsuite></testsuites>",
      "bad-order.xml");
  CHECK(no_properties.exit_code != 0);
}
