// load.websocket through the faultline binary: sessions to a WebSocket test server through a
// faultline proxy, a latency fault on the proxy, and the journal's series, phase stats, rules and
// counters.

#include "tests/support/command.hpp"
#include "tests/support/websocket_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

const nlohmann::json& find_named(const nlohmann::json& list, const std::string& key, const std::string& name,
                                 const std::string& phase = "") {
  for (const auto& e : list)
    if (e[key] == name && (phase.empty() || e["phase"] == phase)) return e;
  FAIL("no " << name << " " << phase);
  throw;
}

}  // namespace

TEST_CASE("load.websocket in a run: its series, rules and counters reach the journal", "[engine]") {
  faultline::test::websocket_test_server::options o;
  o.reply_delay = 10ms;
  faultline::test::websocket_test_server server(o);
  const auto proxy_port = free_port();
  const auto dir = fs::temp_directory_path() / ("faultline-websocket-e2e-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto file = dir / "websocket.yaml";
  std::ofstream(file) << "version: 1\n"
                         "name: websocket-latency\n"
                         "proxies:\n"
                         "  live: { listen: \"127.0.0.1:" << proxy_port << "\", upstream: \"" << server.address() << "\" }\n"
                         "load:\n"
                         "  websocket: { url: \"ws://127.0.0.1:" << proxy_port << "/live\", sessions: 20, ramp: 500ms, rate: 5/s,\n"
                         "               message: '{\"id\":\"{{id}}\",\"order\":1}', match: /id }\n"
                         "steady_state: { for: 1s, timeout: 20s, require: [ \"load.websocket.p95 < 100ms\" ] }\n"
                         "timeline:\n"
                         "  baseline: 2s\n"
                         "  steps:\n"
                         "    - { at: 0s, for: 3s, fault: latency, target: live, latency: 200ms }\n"
                         "  recovery: { timeout: 10s, stable_for: 1s }\n"
                         "expect:\n"
                         "  during_fault: [ \"load.websocket.p50 > 150ms\", \"load.websocket.error_rate < 1%\" ]\n";
  const auto run = faultline::test::run_command(faultline::test::faultline_binary() + " run " + file.string() +
                                                " --report-dir " + (dir / "reports").string() + " --state-file " +
                                                (dir / "state.json").string());
  INFO(run.output);
  CHECK(run.exit_code == 0);
  std::ifstream in(dir / "reports" / "websocket-latency.journal.json");
  REQUIRE(in.good());
  const auto j = nlohmann::json::parse(in);
  CHECK(j["verdict"]["result"] == "passed");
  CHECK(find_named(j["series"], "name", "load.websocket")["kind"] == "websocket");
  CHECK(find_named(j["series"], "name", "load.websocket.sessions")["kind"] == "websocket");
  const auto& stats = j["analysis"]["phase_stats"];
  CHECK(find_named(stats, "series", "load.websocket", "baseline")["p50"].get<double>() < 0.1);
  CHECK(find_named(stats, "series", "load.websocket", "fault")["p50"].get<double>() >= 0.2);
  CHECK(find_named(stats, "series", "load.websocket", "fault")["errors"] == 0);
  const auto& counters = j["load_stats"]["load.websocket"];
  CHECK(counters["sessions"]["established"] == 20);
  CHECK(counters["sessions_attempted_total"] == 20);
  CHECK(counters["replies_total"].get<std::int64_t>() > 200);
  CHECK(counters["replies_total"] == counters["messages_sent_total"]);
  CHECK(server.snapshot().upgraded == 20);
  CHECK(server.snapshot().held == 0);  // every session was closed at the end
  fs::remove_all(dir);
}
