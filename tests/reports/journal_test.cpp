#include "reports/journal.hpp"
#include "tests/reports/synthetic_journal.hpp"
#include "tests/support/command.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <fstream>
#include <unistd.h>

using namespace faultline;
using reports::journal_error;

namespace {

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-journal-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

std::string error_of(const nlohmann::json& doc) {
  try {
    reports::journal_from_json(doc);
  } catch (const journal_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a journal survives JSON and a file unchanged", "[reports]") {
  auto j = test::synthetic_journal();
  auto doc = reports::to_json(j);
  CHECK(doc["schema_version"] == reports::journal_schema_version);
  CHECK(reports::journal_from_json(doc) == j);

  auto path = temp_path("round-trip.json");
  reports::write_journal(j, path.string());
  auto back = reports::read_journal(path.string());
  CHECK(back == j);
  CHECK(reports::to_json(back) == doc);
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST_CASE("absent optionals stay absent and awkward values survive", "[reports]") {
  auto j = test::synthetic_journal();
  j.series[0].windows[3] = {};  // a window without samples: no latencies, no value
  j.series[0].windows[3].start = 3;
  j.analysis.mttd.reset();
  j.analysis.mttr.reset();
  j.analysis.recovered = false;
  j.analysis.breaker.reset();
  j.faults[1].reverted_at.reset();
  j.faults[0].evidence.details = {{"nested", {{"list", {1, 2.5, "x"}}, {"flag", true}}}};
  j.faults[2].output = "colour \x1b[31mred\x1b[0m and tabs\t and \"quotes\" and ünïcödé";
  j.series[1].windows[0].p99 = 1e-7;
  j.series[1].windows[1].p99 = 3599.999999;
  j.analysis.score = 85.71428571428571;

  auto doc = reports::to_json(j);
  CHECK_FALSE(doc["series"][0]["windows"][3].contains("p99"));
  CHECK_FALSE(doc["analysis"].contains("mttr"));
  CHECK_FALSE(doc["analysis"].contains("breaker"));
  auto path = temp_path("optionals.json");
  reports::write_journal(j, path.string());
  CHECK(reports::read_journal(path.string()) == j);

  doc["analysis"]["mttr"] = nullptr;  // null reads as absent, as a missing key does
  CHECK_FALSE(reports::journal_from_json(doc).analysis.mttr.has_value());
}

TEST_CASE("a journal of another schema version is rejected naming both versions", "[reports]") {
  auto doc = reports::to_json(test::synthetic_journal());
  doc["schema_version"] = 0;
  auto message = error_of(doc);
  CHECK_THAT(message, Catch::Contains("journal schema version 0 is not supported"));
  CHECK_THAT(message, Catch::Contains("this faultline reads schema version 1 only"));
  doc["schema_version"] = 2;
  CHECK_THAT(error_of(doc), Catch::Contains("journal schema version 2 is not supported"));
  doc.erase("schema_version");
  CHECK(error_of(doc) == "not a faultline journal: it has no 'schema_version' field");
  CHECK(error_of(nlohmann::json::array()) == "not a faultline journal: the document is array, not an object");

  auto path = temp_path("old.json");
  auto old = reports::to_json(test::synthetic_journal());
  old["schema_version"] = 0;
  std::ofstream(path) << old.dump();
  try {
    reports::read_journal(path.string());
    FAIL("an old journal was read");
  } catch (const journal_error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith(path.string() + ": journal schema version 0 is not supported"));
  }
}

TEST_CASE("a damaged journal is rejected naming the field", "[reports]") {
  auto good = reports::to_json(test::synthetic_journal());
  struct damage {
    std::string what;
    std::function<void(nlohmann::json&)> apply;
    std::string message;
  };
  std::vector<damage> table{
      {"missing score", [](auto& d) { d["analysis"].erase("score"); }, "missing field 'analysis.score'"},
      {"count as text", [](auto& d) { d["series"][0]["windows"][3]["count"] = "x"; },
       "field 'series[0].windows[3].count' must be a non-negative integer, not string"},
      {"negative count", [](auto& d) { d["series"][1]["windows"][0]["errors"] = -1; },
       "field 'series[1].windows[0].errors' must be a non-negative integer, not number"},
      {"p99 as text", [](auto& d) { d["series"][0]["windows"][0]["p99"] = "1s"; },
       "field 'series[0].windows[0].p99' must be a number or null, not string"},
      {"met as number", [](auto& d) { d["analysis"]["expectations"][2]["met"] = 1; },
       "field 'analysis.expectations[2].met' must be true or false, not number"},
      {"tags not a list", [](auto& d) { d["experiment"]["tags"] = "db"; }, "field 'experiment.tags' must be an array, not string"},
      {"param not text", [](auto& d) { d["faults"][0]["params"]["latency"] = 800; },
       "field 'faults[0].params.latency' must be a string, not number"},
      {"no verdict", [](auto& d) { d.erase("verdict"); }, "missing field 'verdict'"},
      {"zero window", [](auto& d) { d["window"] = 0; }, "field 'window' must be a positive number of seconds, not 0"},
  };
  for (const auto& t : table) {
    INFO(t.what);
    auto doc = good;
    t.apply(doc);
    CHECK(error_of(doc) == t.message);
  }
}

TEST_CASE("a file that is not JSON is rejected", "[reports]") {
  auto path = temp_path("broken.json");
  std::ofstream(path) << "{\"schema_version\": 1,";
  CHECK_THROWS_WITH(reports::read_journal(path.string()), Catch::Contains("not a faultline journal: invalid JSON at byte"));
  CHECK_THROWS_WITH(reports::read_journal("/nonexistent/journal.json"),
                    "/nonexistent/journal.json: cannot read the journal: No such file or directory");
}

TEST_CASE("the recorded test journal is the synthetic journal", "[reports]") {
  // tests/reports/data/checkout-journal.json was written by faultline_synthetic_journal; if the
  // builder changes, record it again (see docs/reports.md).
  auto recorded = reports::read_journal(std::string(FAULTLINE_REPORTS_TEST_DATA) + "/checkout-journal.json");
  CHECK(recorded == test::synthetic_journal());
}

TEST_CASE("the example in docs/journal.md is a journal this faultline reads", "[reports]") {
  std::ifstream in(test::source_dir() + "/docs/journal.md");
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto start = doc.find("```json\n");
  REQUIRE(start != std::string::npos);
  start += 8;
  auto end = doc.find("```", start);
  auto j = reports::journal_from_json(nlohmann::json::parse(doc.substr(start, end - start)));
  CHECK(j.experiment.name == "checkout-db-slowness");
  CHECK(j.analysis.breaker->transitions.size() == 5);
}

TEST_CASE("a load generator's own counters survive the journal, and are left out when there are none", "[reports]") {
  auto j = test::synthetic_journal();
  CHECK_FALSE(reports::to_json(j).contains("load_stats"));
  j.load_stats = {{"load.websocket", {{"sessions", {{"established", 300}, {"refused", 41}}}, {"replies_total", 1200}}}};
  auto doc = reports::to_json(j);
  CHECK(doc["load_stats"]["load.websocket"]["sessions"]["refused"] == 41);
  CHECK(reports::journal_from_json(doc) == j);
  doc["load_stats"] = nlohmann::json::array();
  CHECK_THAT(error_of(doc), Catch::Contains("load_stats"));
}
