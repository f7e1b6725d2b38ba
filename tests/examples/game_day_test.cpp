// The README's game day, in its short mode, end to end: real PostgreSQL, Redis and the shop
// started by scripts/game-day.sh, the suite run by faultline, everything stopped afterwards. The
// shop's own log (shop.log) is the ground truth for db-slowness's breaker numbers.

#include "engine/analysis/analysis.hpp"
#include "engine/loader.hpp"
#include "reports/journal.hpp"
#include "tests/support/command.hpp"
#include "tests/support/test_catalogue.hpp"
#include "tests/support/utc_time.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
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

struct shop_transition {
  double unix_s;
  std::string change;  // "closed->open"
};

// The transitions of one breaker (`postgres`, `payments`) the shop logged between two journal times.
std::vector<shop_transition> shop_breaker_log(const fs::path& log, double from_unix, double to_unix,
                                              const std::string& dependency = "postgres") {
  std::vector<shop_transition> out;
  std::ifstream in(log);
  const std::regex line_re("^(\\S+) breaker " + dependency + " (\\w+->\\w+)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, line_re)) {
      const double t = faultline::test::parse_utc_seconds(m[1].str());
      if (t >= from_unix && t <= to_unix) out.push_back({t, m[2].str()});
    }
  return out;
}

// The value of one series in a scrape of the shop's /metrics.
std::int64_t metric(const std::string& scrape, const std::string& series) {
  const auto at = scrape.find("\n" + series + " ");
  if (at == std::string::npos) FAIL("no series " << series << " in the shop's metrics");
  return std::stoll(scrape.substr(at + series.size() + 2));
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("game day (short): the shop meets six scenarios, misses the seventh on purpose, nothing is left running",
          "[examples]") {
  const auto reports = fs::temp_directory_path() / ("faultline-game-day-" + std::to_string(::getpid()));
  fs::remove_all(reports);
  const auto run = faultline::test::run_command("FAULTLINE_BUILD=" FAULTLINE_BUILD_DIR " " +
                                                faultline::test::source_dir() + "/scripts/game-day.sh --short --report-dir " +
                                                reports.string());
  INFO(run.output);
  CHECK(run.exit_code == 1);  // db-and-cache-loss fails on purpose

  for (const auto* name : {"db-slowness", "cache-loss", "network-latency", "connection-storm", "websocket-overload",
                           "payments-rate-limited"}) {
    const auto j = journal(reports, name);
    INFO(name << ": " << j["verdict"].dump());
    CHECK(j["verdict"]["result"] == "passed");
    CHECK(j["analysis"]["recovered"] == true);
    CHECK(j["analysis"]["mttr"].is_number());
  }

  // The shop process, watched by the PID the script started (SHOP_PID): its memory, CPU and
  // connections are in every journal and charted on every page.
  for (const auto* name : {"db-slowness", "cache-loss", "network-latency", "connection-storm", "websocket-overload",
                           "db-and-cache-loss", "payments-rate-limited"}) {
    const auto j = journal(reports, name);
    const auto values = [&](const std::string& series) {  // each window's highest value
      std::vector<double> out;
      const auto& all = j["timeline"]["series"];
      if (all.contains(series))
        for (const auto& w : all[series]["windows"])
          if (w.contains("value")) out.push_back(w["value"]["max"].get<double>());
      return out;
    };
    INFO(name);
    const auto rss = values("shop.rss");
    REQUIRE_FALSE(rss.empty());
    CHECK(*std::max_element(rss.begin(), rss.end()) > 1e6);  // a running C++ service holds more than 1 MB
    CHECK(*std::max_element(rss.begin(), rss.end()) < 4e9);
    const auto cpu = values("shop.cpu");
    REQUIRE_FALSE(cpu.empty());
    CHECK(*std::max_element(cpu.begin(), cpu.end()) > 0);  // it served 50 requests per second
    const auto connections = values("shop.connections");
    REQUIRE_FALSE(connections.empty());
    CHECK(*std::max_element(connections.begin(), connections.end()) >= 1);  // at least the load's connection
    // The storm's 3,000 held connections fill the shop up to its --max-connections 1000.
    if (std::string(name) == "connection-storm") CHECK(*std::max_element(connections.begin(), connections.end()) >= 500);
    std::ifstream page(reports / (std::string(name) + ".html"));
    const std::string html((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
    CHECK(html.find("Memory · shop") != std::string::npos);
    CHECK(html.find("TCP connections · shop") != std::string::npos);
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
  const std::string metrics = read_text(reports / "shop-metrics.txt");
  const auto counter = [&](const std::string& series) { return metric(metrics, series); };
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

  // db-slowness against the shop's own log. Its times count from the journal's start.
  const double run_start = faultline::test::parse_utc_seconds(slow["started_at"].get<std::string>());
  const double run_end = faultline::test::parse_utc_seconds(slow["ended_at"].get<std::string>());
  const double injected = slow["faults"][0]["injected_at"].get<double>();
  const double reverted = slow["faults"][0]["reverted_at"].get<double>();
  const auto log = shop_breaker_log(reports / "shop.log", run_start, run_end);
  std::optional<double> opened, closed;
  int reopenings = 0;
  for (const auto& t : log) {
    const double at = t.unix_s - run_start;
    if (t.change == "closed->open" && !opened && at > injected - 0.1) opened = at - injected;
    if (t.change == "half_open->open" && at > injected) ++reopenings;
    if (t.change == "half_open->closed" && at > reverted - 0.1) closed = at - reverted;
  }
  REQUIRE(opened);
  REQUIRE(closed);
  const auto& breaker = slow["analysis"]["breaker"];
  INFO("shop.log: opened " << *opened << " s after inject, closed " << *closed << " s after revert, " << reopenings
                           << " re-openings; faultline: " << breaker.dump());
  REQUIRE(breaker["source"] == "probe:breaker");
  // The load (every 20 ms) pins the opening down.
  CHECK(breaker["time_to_open"].get<double>() == Approx(*opened).margin(0.1));
  CHECK(breaker["time_to_open_resolution"].get<double>() <= 0.05);
  // The close is hidden from the load (the trial's fresh copy serves the requests around it), so
  // the probe (every 200 ms) alone places it, halfway between its reads: within half their gap,
  // 100 ms, plus however late a read ran on a busy machine (the resolution says how late).
  const double close_tolerance = 0.1 + std::max(0.0, breaker["time_to_close_resolution"].get<double>() - 0.2) / 2;
  CHECK(breaker["time_to_close"].get<double>() == Approx(*closed).margin(close_tolerance));
  CHECK(std::abs(breaker["flaps"].get<int>() - reopenings) <= 1);
  // Steady state includes the breaker: recovered when it closed.
  CHECK(slow["analysis"]["mttr"].get<double>() == Approx(*closed).margin(0.2));

  // The same run analysed from the load alone (no state probe): its requests and their fallback
  // marks (X-Cache: stale) show the opening and every failed trial.
  auto again = faultline::reports::read_journal((reports / "db-slowness.journal.json").string());
  auto x = faultline::engine::parse_experiment(again.experiment.resolved_yaml, again.experiment.file,
                                               faultline::test::builtin_catalogue(), {});
  x.expect.breaker->probe.clear();
  faultline::engine::reanalyse(again, x);
  REQUIRE(again.analysis.breaker);
  const auto& inferred = *again.analysis.breaker;
  INFO("from the load alone: " << faultline::reports::to_json(again)["analysis"]["breaker"].dump());
  CHECK(inferred.source == "inferred");
  REQUIRE(inferred.time_to_open);
  CHECK(*inferred.time_to_open == Approx(*opened).margin(0.1));
  CHECK(std::abs(inferred.flaps - reopenings) <= 1);

  // Everything the script started is gone: every PID it printed and every temporary directory.
  const std::regex started(R"((/tmp/faultline-(postgres|redis|shop|payments)\.[A-Za-z0-9]+))");
  int dirs = 0;
  for (std::sregex_iterator it(run.output.begin(), run.output.end(), started), end; it != end; ++it, ++dirs)
    CHECK_FALSE(fs::exists((*it)[1].str()));
  CHECK(dirs >= 3);
  fs::remove_all(reports);
}

TEST_CASE("payments-rate-limited (short): the shop's payments breaker opens and checkout falls back, as the shop logged",
          "[examples]") {
  const auto reports = fs::temp_directory_path() / ("faultline-payments-day-" + std::to_string(::getpid()));
  fs::remove_all(reports);
  const auto run = faultline::test::run_command("FAULTLINE_BUILD=" FAULTLINE_BUILD_DIR " " + faultline::test::source_dir() +
                                                "/scripts/game-day.sh --short --report-dir " + reports.string() + " " +
                                                faultline::test::source_dir() + "/experiments/payments-rate-limited.yaml");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  const auto j = journal(reports, "payments-rate-limited");
  INFO(j["verdict"].dump() << "\n" << j["analysis"]["expectations"].dump());
  CHECK(j["verdict"]["result"] == "passed");
  for (const auto* name : {"during_fault[0]", "during_fault[1]", "breaker.opens_within", "breaker.closes_within"})
    CHECK(expectation(j, name)["met"] == true);

  // The proxy really rate-limited the payments: 429s on POST /payments, and only there.
  const auto& evidence = j["faults"][0]["evidence"];
  INFO("evidence: " << evidence.dump());
  CHECK(evidence["observed"] == true);
  const auto& route = evidence["details"]["routes"]["POST /payments"];
  CHECK(route["affected"].get<std::int64_t>() > 0);
  CHECK(route["matched"] == route["seen"]);

  // The shop's side: payments refused by the limit, calls its breaker did not make, no 5xx.
  const std::string metrics = read_text(reports / "shop-metrics.txt");
  INFO(metrics);
  CHECK(metric(metrics, R"(shop_payments_total{result="rate_limited"})") > 0);
  CHECK(metric(metrics, R"(shop_breaker_rejections_total{dependency="payments"})") > 0);
  CHECK(metric(metrics, R"(shop_requests_total{route="/checkout",outcome="error"})") == 0);
  CHECK(metric(metrics, R"(shop_requests_total{route="/checkout",outcome="stale"})") > 0);  // the fallback
  CHECK(metric(metrics, R"(shop_breaker_state{dependency="payments"})") == 0);

  // Against the shop's log: the breaker opened after the inject, and closed after the revert.
  const double run_start = faultline::test::parse_utc_seconds(j["started_at"].get<std::string>());
  const double run_end = faultline::test::parse_utc_seconds(j["ended_at"].get<std::string>());
  const double injected = j["faults"][0]["injected_at"].get<double>();
  const double reverted = j["faults"][0]["reverted_at"].get<double>();
  std::optional<double> opened, closed;
  for (const auto& t : shop_breaker_log(reports / "shop.log", run_start, run_end, "payments")) {
    const double at = t.unix_s - run_start;
    if (t.change == "closed->open" && !opened && at > injected - 0.1) opened = at - injected;
    if (t.change == "half_open->closed" && at > reverted - 0.1) closed = at - reverted;
  }
  const auto& breaker = j["analysis"]["breaker"];
  INFO("faultline: " << breaker.dump());
  REQUIRE(opened);
  REQUIRE(closed);
  CHECK(*opened < 3.0);
  CHECK(*closed < 8.0);
  // The probe (every 200 ms) places each transition within its period, plus however late a read
  // ran on a busy machine (the resolution says how late).
  const auto tolerance = [](const nlohmann::json& resolution) { return 0.1 + std::max(0.0, resolution.get<double>() - 0.2); };
  CHECK(breaker["time_to_open"].get<double>() == Approx(*opened).margin(tolerance(breaker["time_to_open_resolution"])));
  CHECK(breaker["time_to_close"].get<double>() == Approx(*closed).margin(tolerance(breaker["time_to_close_resolution"])));
  fs::remove_all(reports);
}

TEST_CASE("game day (short, --repeat 3): db-slowness three times on the same code, and no diff between its runs calls a regression",
          "[examples]") {
  const auto reports = fs::temp_directory_path() / ("faultline-repeat-" + std::to_string(::getpid()));
  fs::remove_all(reports);
  const auto started = std::chrono::steady_clock::now();
  const auto run = faultline::test::run_command("FAULTLINE_BUILD=" FAULTLINE_BUILD_DIR " " + faultline::test::source_dir() +
                                                "/scripts/game-day.sh --short --repeat 3 --report-dir " + reports.string() + " " +
                                                faultline::test::source_dir() + "/experiments/db-slowness.yaml");
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO(run.output << "\n(three runs took " << took << " s)");
  // Every run passes on this system; a flaky verdict (exit 5) would name what flipped.
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.output, Catch::Contains("db-slowness: passed 3 of 3: passed (exit 0)"));
  CHECK_THAT(run.output, Catch::Contains("margins to the targets"));
  std::ifstream page(reports / "db-slowness.repeat.html");
  const std::string html((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
  CHECK_THAT(html, Catch::Contains("<svg class=\"spread\""));
  CHECK(fs::exists(reports / "db-slowness.repeat.json"));

  // The same code, run after run: neither one run against the next (bounded by each run's own
  // spread and the borderline rules) nor the first two against the third is a regression.
  const std::string faultline_bin = FAULTLINE_BUILD_DIR "/engine/faultline";
  const auto path = [&](const char* name) { return (reports / name).string(); };
  for (const auto& args : {path("db-slowness.journal.json") + " " + path("db-slowness-2.journal.json"),
                           path("db-slowness-2.journal.json") + " " + path("db-slowness-3.journal.json"),
                           path("db-slowness-3.journal.json") + " " + path("db-slowness.journal.json"),
                           "--old " + path("db-slowness.journal.json") + " " + path("db-slowness-2.journal.json") + " --new " +
                               path("db-slowness-3.journal.json")}) {
    const auto diff = faultline::test::run_command(faultline_bin + " diff " + args);
    INFO("faultline diff " << args << "\n" << diff.output);
    CHECK(diff.exit_code == 0);
  }
  fs::remove_all(reports);
}
