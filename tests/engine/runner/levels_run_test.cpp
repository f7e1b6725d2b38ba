// A levels run end to end: the faultline binary against a loopback HTTP server; each level is
// judged by its own rules, the journal has one entry per level, and the verdict names the first
// level that missed.

#include "tests/support/command.hpp"
#include "tests/support/http_test_server.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace std::chrono_literals;

namespace {

std::filesystem::path scratch() {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-levels-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_file(const std::filesystem::path& p) {
  std::ostringstream s;
  s << std::ifstream(p).rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("levels: each level judged by its own rules, one journal entry each, the verdict names the first that missed",
          "[engine][integration]") {
  faultline::test::http_test_server server([](const faultline::test::http_test_request&) {
    faultline::test::http_test_reply r;
    r.delay = 5ms;  // so that no answer can come within 1 us
    return r;
  });
  const auto dir = scratch();
  std::ofstream(dir / "levels.yaml") << "version: 1\nname: levels-test\n"
                                     << "load:\n  http: { url: \"" << server.url("/") << "\", think_time: 50ms }\n"
                                     << "  levels:\n"
                                     << "    - { name: calm, rate: 40/s, for: 2s, require: [ \"load.error_rate < 1%\", \"load.p95 < 1s\" ] }\n"
                                     << "    - { users: 4, for: 2s, require: [ \"load.p50 < 1us\" ] }\n"
                                     << "    - { name: never-judged, rate: 10/s, for: 1s, require: [ \"load.p95 < 1s\" ] }\n"
                                     << "settings: { window: 250ms }\n";
  const auto r = faultline::test::run_command(faultline::test::faultline_binary() + " run " + (dir / "levels.yaml").string() +
                                              " --report-dir " + dir.string() + " --state-file " + (dir / "state.json").string());
  INFO(r.output);
  CHECK(r.exit_code == 1);

  nlohmann::json j;
  std::filesystem::path html;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().string().ends_with(".journal.json")) j = nlohmann::json::parse(std::ifstream(e.path()));
    if (e.path().extension() == ".html" && e.path().filename() != "index.html") html = e.path();
  }
  REQUIRE(j.is_object());
  const auto& levels = j["analysis"]["levels"];
  REQUIRE(levels.size() == 3);
  CHECK(levels[0]["name"] == "calm");
  CHECK(levels[0]["held"] == true);
  CHECK(levels[0]["rate"].get<double>() == Approx(40).epsilon(0.25));
  CHECK(levels[0]["rules"].size() == 2);
  CHECK(levels[1]["name"] == "4-users");
  CHECK(levels[1]["load"] == "4 users");
  CHECK(levels[1]["held"] == false);
  CHECK(levels[1]["rules"][0]["held"] == false);
  CHECK(levels[1]["p50"].get<double>() >= 0.005);
  // Four users, each waiting ~5 ms for the answer and 50 ms between requests: ~70 per second.
  CHECK(levels[1]["rate"].get<double>() == Approx(4.0 / 0.055).epsilon(0.35));
  CHECK(levels[2]["held"] == true);

  // Every answer the server gave is counted in exactly one level (a few may still be in flight at the end).
  std::uint64_t counted = 0;
  for (const auto& l : levels) counted += l["count"].get<std::uint64_t>();
  CHECK(counted <= server.requests());
  CHECK(counted + 10 >= server.requests());

  CHECK(j["verdict"]["result"] == "failed");
  const std::string reason = j["verdict"]["reason"];
  CHECK(reason.find("level '4-users' (4 users) missed") != std::string::npos);
  CHECK(reason.find("2 of 3 levels held") != std::string::npos);

  REQUIRE(!html.empty());
  const auto page = read_file(html);
  CHECK(page.find("data-level=\"calm\"") != std::string::npos);
  CHECK(page.find("data-level=\"4-users\"") != std::string::npos);
  std::filesystem::remove_all(dir);
}
