#include "reports/journal.hpp"
#include "tests/reports/synthetic_journal.hpp"
#include "tests/support/command.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>
#include <unistd.h>

using namespace faultline;
using reports::journal_error;

namespace {

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-journal-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

// A journal as faultline wrote them before schema version 2: the windows written out in `series`.
std::string v1_path() { return std::string(FAULTLINE_REPORTS_TEST_DATA) + "/checkout-journal-v1.json"; }

nlohmann::json v1_doc() {
  std::ifstream in(v1_path());
  return nlohmann::json::parse(in);
}

void check_documented(const std::string& doc, std::string_view name) {
  INFO("field " << name);
  CHECK(doc.find("`" + std::string(name) + "`") != std::string::npos);
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
  j.analysis.mttd.reset();
  j.analysis.mttr.reset();
  j.analysis.recovered = false;
  j.analysis.breaker.reset();
  j.faults[1].reverted_at.reset();
  j.faults[0].evidence.details = {{"nested", {{"list", {1, 2.5, "x"}}, {"flag", true}}}};
  j.faults[2].output = "colour \x1b[31mred\x1b[0m and tabs\t and \"quotes\" and ünïcödé";
  j.analysis.phase_stats[0].p99 = 1e-7;
  j.analysis.phase_stats[1].p99 = 3599.999999;
  j.analysis.score = 85.71428571428571;

  auto doc = reports::to_json(j);
  CHECK_FALSE(doc["analysis"].contains("mttr"));
  CHECK_FALSE(doc["analysis"].contains("breaker"));
  CHECK_FALSE(doc["faults"][1].contains("reverted_at"));
  auto path = temp_path("optionals.json");
  reports::write_journal(j, path.string());
  CHECK(reports::read_journal(path.string()) == j);

  doc["analysis"]["mttr"] = nullptr;  // null reads as absent, as a missing key does
  CHECK_FALSE(reports::journal_from_json(doc).analysis.mttr.has_value());
}

TEST_CASE("a window without samples has no latencies and no value, and old journals keep theirs", "[reports]") {
  // The Timeline leaves windows without samples out; the series still has the window, empty.
  auto doc = reports::to_json(test::synthetic_journal());
  auto& stored = doc["timeline"]["series"]["load"]["windows"];
  REQUIRE(stored[3]["index"] == 3);
  stored.erase(3);
  reports::window_point empty;
  empty.start = 3;
  CHECK(reports::journal_from_json(doc).series[0].windows[3] == empty);

  // Version 1 wrote windows out: an empty one, and awkward values, read back as written.
  auto old = v1_doc();
  old["series"][0]["windows"][3] = {{"start", 3}, {"count", 0}, {"errors", 0}, {"fast_failures", 0}, {"outcomes", nlohmann::json::object()}};
  old["series"][1]["windows"][0]["p99"] = 1e-7;
  old["series"][1]["windows"][1]["p99"] = 3599.999999;
  old["series"][1]["windows"][2]["p99"] = nullptr;
  auto j = reports::journal_from_json(old);
  CHECK(j.series[0].windows[3] == empty);
  CHECK(j.series[1].windows[0].p99 == 1e-7);
  CHECK(j.series[1].windows[1].p99 == 3599.999999);
  CHECK_FALSE(j.series[1].windows[2].p99.has_value());
}

TEST_CASE("a journal of schema version 1 is read: its windows as written", "[reports]") {
  auto j = reports::read_journal(v1_path());
  CHECK(j.schema_version == reports::journal_schema_version);
  const auto doc = v1_doc();
  REQUIRE(j.series.size() == 3);
  for (std::size_t s = 0; s < j.series.size(); ++s) {
    REQUIRE(j.series[s].windows.size() == 57);
    for (std::size_t i = 0; i < 57; ++i) {
      const auto& w = j.series[s].windows[i];
      const auto& written = doc["series"][s]["windows"][i];
      INFO(j.series[s].name << " window " << i);
      CHECK(w.start == written["start"].get<double>());
      CHECK(w.count == written["count"].get<std::uint64_t>());
      CHECK(w.p95 == (written.contains("p95") ? std::optional<double>(written["p95"].get<double>()) : std::nullopt));
      CHECK(w.value == (written.contains("value") ? std::optional<double>(written["value"].get<double>()) : std::nullopt));
    }
  }
  CHECK(j.series[0].windows[16].count == 199);
  CHECK(j.series[0].windows[16].outcomes == std::map<std::string, std::uint64_t>{{"ok", 196}, {"timeout", 3}});
  CHECK(j.experiment == test::synthetic_journal().experiment);
  CHECK(j.faults == test::synthetic_journal().faults);
  CHECK(j.analysis.expectations.size() == 9);

  // Written again, it is a version 2 journal only if its windows have a timeline to live in.
  CHECK_THROWS_WITH(reports::to_json(j), "series 'load' is not in the journal's timeline, where its windows are stored");
}

TEST_CASE("a journal of another schema version is rejected naming both versions", "[reports]") {
  auto doc = reports::to_json(test::synthetic_journal());
  doc["schema_version"] = 0;
  auto message = error_of(doc);
  CHECK_THAT(message, Catch::Contains("journal schema version 0 is not supported"));
  CHECK_THAT(message, Catch::Contains("this faultline reads schema versions 1 to 2"));
  doc["schema_version"] = 3;
  CHECK_THAT(error_of(doc), Catch::Contains("journal schema version 3 is not supported"));
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
  auto old = v1_doc();  // windows are written out in version 1 journals only
  struct damage {
    std::string what;
    std::function<void(nlohmann::json&)> apply;
    std::string message;
    bool v1 = false;
  };
  std::vector<damage> table{
      {"missing score", [](auto& d) { d["analysis"].erase("score"); }, "missing field 'analysis.score'"},
      {"count as text", [](auto& d) { d["series"][0]["windows"][3]["count"] = "x"; },
       "field 'series[0].windows[3].count' must be a non-negative integer, not string", true},
      {"negative count", [](auto& d) { d["series"][1]["windows"][0]["errors"] = -1; },
       "field 'series[1].windows[0].errors' must be a non-negative integer, not number", true},
      {"p99 as text", [](auto& d) { d["series"][0]["windows"][0]["p99"] = "1s"; },
       "field 'series[0].windows[0].p99' must be a number or null, not string", true},
      {"no windows", [](auto& d) { d["series"][2].erase("windows"); }, "missing field 'series[2].windows'", true},
      {"window count as text", [](auto& d) { d["series"][0]["window_count"] = "57"; },
       "field 'series[0].window_count' must be a non-negative integer, not string"},
      {"no window count", [](auto& d) { d["series"][1].erase("window_count"); }, "missing field 'series[1].window_count'"},
      {"timeline damaged", [](auto& d) { d["timeline"]["window_ns"] = "1s"; },
       "field 'timeline' is not a faultline Timeline: timeline: 'window_ns' has the wrong type"},
      {"met as number", [](auto& d) { d["analysis"]["expectations"][2]["met"] = 1; },
       "field 'analysis.expectations[2].met' must be true or false, not number"},
      {"tags not a list", [](auto& d) { d["experiment"]["tags"] = "db"; }, "field 'experiment.tags' must be an array, not string"},
      {"param not text", [](auto& d) { d["faults"][0]["params"]["latency"] = 800; },
       "field 'faults[0].params.latency' must be a string, not number"},
      {"details not an object", [](auto& d) { d["faults"][0]["evidence"]["details"] = nlohmann::json::array(); },
       "field 'faults[0].evidence.details' must be an object, not array"},
      {"breaker as text", [](auto& d) { d["analysis"]["breaker"] = "open"; },
       "field 'analysis.breaker' must be an object or null, not string"},
      {"no verdict", [](auto& d) { d.erase("verdict"); }, "missing field 'verdict'"},
      {"zero window", [](auto& d) { d["window"] = 0; }, "field 'window' must be a positive number of seconds, not 0"},
  };
  for (const auto& t : table) {
    INFO(t.what);
    auto doc = t.v1 ? old : good;
    t.apply(doc);
    CHECK(error_of(doc) == t.message);
  }
}

TEST_CASE("a file that is not JSON is rejected", "[reports]") {
  auto path = temp_path("broken.json");
  std::ofstream(path) << "{\"schema_version\": 1,";
  CHECK_THROWS_WITH(reports::read_journal(path.string()), Catch::Contains("not a faultline journal: invalid JSON at byte"));
  // Found by tests/fuzz/journal_fuzz.cpp: a number beyond a double escaped as nlohmann's
  // out_of_range (an internal error, exit 4) instead of a journal_error (exit 2).
  std::ofstream(path) << "{\"schema_version\": 2, \"window\": 3e554432}";
  CHECK_THROWS_AS(reports::read_journal(path.string()), reports::journal_error);
  CHECK_THROWS_WITH(reports::read_journal(path.string()), Catch::Contains("not a faultline journal: a number is too large for a double"));
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
  REQUIRE(j.series.size() == 3);
  CHECK(j.series[0].windows.size() == 57);
  CHECK(j.series[0].windows[16].count == 199);  // derived from the example's one Timeline window
  CHECK(j.series[0].windows[16].errors == 3);
}

TEST_CASE("docs/journal.md describes every field the journal writes", "[reports]") {
  std::ifstream in(test::source_dir() + "/docs/journal.md");
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto described = [&](auto fields) {
    std::apply([&](const auto&... f) { (check_documented(doc, f.name), ...); }, fields);
  };
  described(reports::journal::json_fields());
  described(reports::experiment_info::json_fields());
  described(reports::environment_info::json_fields());
  described(reports::phase_span::json_fields());
  described(reports::fault_record::json_fields());
  described(reports::evidence_record::json_fields());
  described(reports::series_record::json_fields());
  described(reports::window_point::json_fields());
  described(reports::phase_stat::json_fields());
  described(reports::analysis_record::json_fields());
  described(reports::breaker_record::json_fields());
  described(reports::breaker_transition::json_fields());
  described(reports::expectation_record::json_fields());
  described(reports::margin_record::json_fields());
  described(reports::verdict_record::json_fields());
}

TEST_CASE("a load generator's own counters survive the journal, and are left out when there are none", "[reports]") {
  auto j = test::synthetic_journal();
  CHECK_FALSE(reports::to_json(j).contains("load_stats"));
  j.load_stats = std::map<std::string, nlohmann::json>{
      {"load.websocket", {{"sessions", {{"established", 300}, {"refused", 41}}}, {"replies_total", 1200}}}};
  auto doc = reports::to_json(j);
  CHECK(doc["load_stats"]["load.websocket"]["sessions"]["refused"] == 41);
  CHECK(reports::journal_from_json(doc) == j);
  doc["load_stats"] = nlohmann::json::array();
  CHECK_THAT(error_of(doc), Catch::Contains("load_stats"));
}
