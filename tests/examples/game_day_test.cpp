// The README's game day, in its short mode, end to end: real PostgreSQL, Redis and the shop
// started by scripts/game-day.sh, the suite run by faultline, everything stopped afterwards.

#include "tests/support/command.hpp"
#include "tests/support/utc_time.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;

namespace {

nlohmann::json journal(const fs::path& dir, const std::string& name) {
  std::ifstream in(dir / (name + ".journal.json"));
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}


const nlohmann::json& expectation(const nlohmann::json& j, const std::string& name) {
  for (const auto& e : j["analysis"]["expectations"])
    if (e["name"] == name) return e;
  FAIL("no expectation " << name);
  throw;
}

}  // namespace

TEST_CASE("game day (short): the shop meets five scenarios, misses the sixth on purpose, nothing is left running",
          "[examples]") {
  const auto reports = fs::temp_directory_path() / ("faultline-game-day-" + std::to_string(::getpid()));
  fs::remove_all(reports);
  const auto run = faultline::test::run_command("FAULTLINE_BUILD=" FAULTLINE_BUILD_DIR " " +
                                                faultline::test::source_dir() + "/scripts/game-day.sh --short --report-dir " +
                                                reports.string());
  INFO(run.output);
  CHECK(run.exit_code == 1);  // db-and-cache-loss fails on purpose

  for (const auto* name : {"db-slowness", "cache-loss", "network-latency", "connection-storm", "websocket-overload"}) {
    const auto j = journal(reports, name);
    INFO(name << ": " << j["verdict"].dump());
    CHECK(j["verdict"]["result"] == "passed");
    CHECK(j["analysis"]["recovered"] == true);
    CHECK(j["analysis"]["mttr"].is_number());
  }

  const auto slow = journal(reports, "db-slowness");
  CHECK(expectation(slow, "breaker.opens_within")["met"] == true);
  CHECK(expectation(slow, "breaker.closes_within")["met"] == true);
  CHECK(slow["analysis"]["breaker"]["time_to_open"].is_number());
  CHECK(slow["analysis"]["breaker"]["time_to_close"].is_number());

  // WebSocket overload: the shop took exactly its 300 live sessions and refused the rest at once
  // (the experiment's rules judged how fast); its own counters agree with faultline's.
  const auto overload = journal(reports, "websocket-overload");
  const auto& sessions = overload["load_stats"]["load.websocket"]["sessions"];
  CHECK(sessions["established"] == 300);
  CHECK(sessions["refused"].get<std::int64_t>() > 0);
  CHECK(sessions["timed_out"] == 0);
  CHECK(overload["load_stats"]["load.websocket"]["messages_timed_out_total"] == 0);
  CHECK(expectation(overload, "during_fault[2]")["met"] == true);  // sessions answered within 250 ms at p99
  std::ifstream shop_metrics(reports / "shop-metrics.txt");
  const std::string metrics((std::istreambuf_iterator<char>(shop_metrics)), std::istreambuf_iterator<char>());
  const auto counter = [&](const std::string& series) {
    const auto at = metrics.find("\n" + series + " ");
    REQUIRE(at != std::string::npos);
    return std::stoll(metrics.substr(at + series.size() + 2));
  };
  CHECK(counter(R"(shop_websocket_sessions_total{result="accepted"})") == 300);
  const auto storm_refused = overload["faults"][0]["evidence"]["details"]["outcomes"]["refused"].get<std::int64_t>();
  CHECK(storm_refused > 0);
  CHECK(counter(R"(shop_websocket_sessions_total{result="rejected"})") >=
        sessions["refused"].get<std::int64_t>() + storm_refused);

  const auto failing = journal(reports, "db-and-cache-loss");
  CHECK(failing["verdict"]["result"] == "failed");
  CHECK(failing["verdict"]["exit_code"] == 1);
  CHECK(expectation(failing, "during_fault[0]")["met"] == false);
  CHECK_THAT(failing["verdict"]["reason"].get<std::string>(), Catch::Contains("during_fault[0]"));

  // The shop's own log saw the breaker open and close during db-slowness.
  std::ifstream shop_log(reports / "shop.log");
  const std::string log((std::istreambuf_iterator<char>(shop_log)), std::istreambuf_iterator<char>());
  const std::regex opened(R"((\S+) breaker postgres closed->open)");
  std::smatch first_open;
  REQUIRE(std::regex_search(log, first_open, opened));
  CHECK_THAT(log, Catch::Contains("half_open->closed"));
  // ... and faultline's time to open agrees with it within one analysis window.
  const double opened_per_log = faultline::test::parse_utc_seconds(first_open[1].str()) -
                                faultline::test::parse_utc_seconds(slow["started_at"].get<std::string>()) -
                                slow["faults"][0]["injected_at"].get<double>();
  CHECK(slow["analysis"]["breaker"]["time_to_open"].get<double>() ==
        Approx(opened_per_log).margin(slow["window"].get<double>()));

  // Everything the script started is gone: every PID it printed and every temporary directory.
  const std::regex started(R"((/tmp/faultline-(postgres|redis|shop)\.[A-Za-z0-9]+))");
  int dirs = 0;
  for (std::sregex_iterator it(run.output.begin(), run.output.end(), started), end; it != end; ++it, ++dirs)
    CHECK_FALSE(fs::exists((*it)[1].str()));
  CHECK(dirs >= 3);
  fs::remove_all(reports);
}
