#include "tests/support/command.hpp"
#include "tests/support/test_catalogue.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

using namespace faultline;

namespace {

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "faultline-cli-test";
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("validate reports three mistakes with positions and exits 2", "[engine]") {
  auto file = write_temp("three.yaml", R"yaml(version: 1
name: three
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  baseline: 10 seconds
  steps:
    - { at: 0s, for: 5s, fault: latency, target: pgg }
    - { at: 0s, for: 5s, fault: lateny, target: pg }
)yaml");
  auto r = test::run_command(test::faultline_binary() + " validate " + file.string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains(file.string() + ":6:13: timeline.baseline: '10 seconds' is not a duration"));
  CHECK_THAT(r.output, Catch::Contains(file.string() + ":8:50: timeline.steps[0].target: target 'pgg' is not a proxy"));
  CHECK_THAT(r.output, Catch::Contains(file.string() + ":9:33: timeline.steps[1].fault: unknown fault type 'lateny' (did you mean 'latency'?)"));
  CHECK_THAT(r.output, Catch::Contains("(3 problems)"));
}

TEST_CASE("the dry run prints the plan and changes nothing", "[engine]") {
  auto file = write_temp("plan.yaml", R"yaml(version: 1
name: plan
proxies:
  api: { listen: 127.0.0.1:18080, upstream: 127.0.0.1:8080 }
timeline:
  baseline: 5s
  steps:
    - { at: 2s, for: 10s, fault: latency, target: api, latency: 300ms }
)yaml");
  auto r = test::run_command(test::faultline_binary() + " run --dry-run " + file.string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("t=7s       inject       latency on api (latency 300ms) [latency-1] for 10s"));
  CHECK_THAT(r.output, Catch::Contains("t=17s      revert"));
  CHECK_THAT(r.output, Catch::Contains("dry run: nothing was started, injected or changed"));
}

TEST_CASE("the plan marks a step that destroys data", "[engine]") {
  auto file = write_temp("flush.yaml", R"yaml(version: 1
name: flush
timeline:
  steps:
    - { at: 1s, action: redis_flush, target: 127.0.0.1:6379, destructive: true }
)yaml");
  auto r = test::run_command(test::faultline_binary() + " run --dry-run " + file.string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("redis_flush on 127.0.0.1:6379") && Catch::Contains("DESTRUCTIVE: destroys data"));
}

TEST_CASE("command-line basics", "[engine]") {
  auto version = test::run_command(test::faultline_binary() + " --version");
  CHECK(version.exit_code == 0);
  CHECK(std::regex_search(version.output, std::regex("faultline [0-9]+\\.[0-9]+\\.[0-9]+")));
  auto list = test::run_command(test::faultline_binary() + " list");
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.output, Catch::Contains("latency"));
  CHECK_THAT(list.output, Catch::Contains("jitter"));
  auto missing = test::run_command(test::faultline_binary() + " validate /nonexistent/x.yaml");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Catch::Contains("/nonexistent/x.yaml: no such file or directory"));
  auto bad_var = test::run_command(test::faultline_binary() + " validate --var novalue " + test::source_dir() + "/experiments");
  CHECK(bad_var.exit_code == 2);
  auto unknown = test::run_command(test::faultline_binary() + " frobnicate");
  CHECK(unknown.exit_code == 2);
}

TEST_CASE("every bundled experiment validates", "[engine]") {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(test::source_dir() + "/experiments")) {
    auto ext = entry.path().extension();
    if (ext != ".yaml" && ext != ".yml") continue;
    ++count;
    INFO(entry.path());
    auto r = test::run_command(test::faultline_binary() + " validate " + entry.path().string());
    INFO(r.output);
    CHECK(r.exit_code == 0);
  }
  CHECK(count >= 1);
}

TEST_CASE("run --repeat runs an experiment N times, keeps every journal and prints the combined summary", "[engine]") {
  auto file = write_temp("repeat.yaml", R"yaml(version: 1
name: repeat-me
timeline:
  baseline: 1s
  steps:
    - { at: 0s, action: command, run: "true", timeout: 5s }
  recovery: { timeout: 5s, stable_for: 1s }
)yaml");
  auto dir = std::filesystem::temp_directory_path() / "faultline-cli-test" / "repeat-reports";
  std::filesystem::remove_all(dir);
  auto r = test::run_command(test::faultline_binary() + " run --repeat 2 --report-dir " + dir.string() + " --state-file " +
                             (dir.parent_path() / "repeat-state.json").string() + " " + file.string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("=== repeat-me (1/1) run 1 of 2"));
  CHECK_THAT(r.output, Catch::Contains("=== repeat-me (1/1) run 2 of 2"));
  CHECK_THAT(r.output, Catch::Contains("repeat-me: passed 2 of 2: passed (exit 0)"));
  std::size_t journals = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().string().ends_with(".journal.json")) ++journals;
  CHECK(journals == 2);
  std::filesystem::remove_all(dir);

  auto bad = test::run_command(test::faultline_binary() + " run --repeat 0 " + file.string());
  CHECK(bad.exit_code == 2);
}
