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

namespace {

const char* const good_experiment = R"yaml(version: 1
name: good
proxies:
  api: { listen: 127.0.0.1:18081, upstream: 127.0.0.1:8080 }
timeline:
  steps:
    - { at: 0s, for: 5s, fault: latency, target: api, latency: 300ms }
)yaml";

}  // namespace

// Issue 16: yaml-cpp's own words ("illegal map value", "end of sequence not found", "missing the
// required key 'timeline'", "unknown escape character") named neither the cause nor the fix.
TEST_CASE("YAML syntax errors name the cause and the fix", "[engine]") {
  struct bad_file {
    const char* name;
    std::string text;
    const char* expected;  // after "<file>:"
  };
  const std::vector<bad_file> files{
      {"tab.yaml", "version: 1\nname: tab\ntimeline:\n\tsteps: []\n", "4:1: line 4 is indented with a tab; YAML needs spaces"},
      {"indent.yaml", "version: 1\nname: indent\ntimeline:\n  steps:\n    - at: 0s\n      fault: latency\n   - at: 1s\n",
       "7:4: line 7 is indented out of step with the lines above it"},
      {"quote.yaml", "version: 1\nname: \"quote\ntimeline:\n  steps: []\ndescription: x\"\n",
       "2:7: the quoted value that starts here is not closed on line 2, so it runs on into the lines below; add the closing \""},
      {"escape.yaml", "version: 1\nname: \"a\\qb\"\n", "'\\q' is not an escape YAML knows inside double quotes"},
      {"binary.yaml", std::string("version: 1\nname: ") + '\x01' + "\x02\xff\n", "2:7: byte 0x01 is not text: this is not a YAML file"},
      {"big.yaml", "version: 1\nname: big\ntags: [" + std::string(1100000, 'a') + "]\n",
       "1:1: the file is 1100030 bytes; faultline reads experiment files of at most 1048576 bytes (1MiB)"},
  };
  for (const auto& f : files) {
    auto path = write_temp(f.name, f.text);
    auto r = test::run_command(test::faultline_binary() + " validate " + path.string());
    INFO(f.name << "\n" << r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains(f.expected));
  }
}

TEST_CASE("the dry run reports every file's problems after a syntax error too", "[engine]") {
  auto tab = write_temp("dry-tab.yaml", "version: 1\nname: tab\ntimeline:\n\tsteps: []\n");
  // Issue 16: yaml-cpp put a raw NUL from such a file into its message, which cut off the report.
  std::ifstream executable(test::faultline_binary(), std::ios::binary);
  std::string head(4096, '\0');
  executable.read(head.data(), static_cast<std::streamsize>(head.size()));
  auto binary = write_temp("dry-binary.yaml", head);
  auto bad = write_temp("dry-bad.yaml", "version: 1\nname: bad\ntimeline:\n  baseline: 10 seconds\n");
  auto good = write_temp("dry-good.yaml", good_experiment);
  auto r = test::run_command(test::faultline_binary() + " run --dry-run " + tab.string() + " " + binary.string() + " " + bad.string() +
                             " " + good.string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains(tab.string() + ":4:1: line 4 is indented with a tab"));
  CHECK_THAT(r.output, Catch::Contains(binary.string() + ":1:1: byte 0x7f is not text"));
  CHECK_THAT(r.output, Catch::Contains(bad.string() + ":4:13: timeline.baseline: '10 seconds' is not a duration"));
}

TEST_CASE("values and lists beyond the limits are refused with the limit", "[engine]") {
  std::string tags = "[";
  for (int i = 0; i < 1001; ++i) tags += (i ? ",t" : "t") + std::to_string(i);
  tags += "]";
  auto file = write_temp("many-tags.yaml", std::string(good_experiment) + "tags: " + tags + "\n");
  auto r = test::run_command(test::faultline_binary() + " validate " + file.string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("this list has 1001 entries; faultline accepts at most 1000 in one list"));

  auto load = [](const std::string& rate) {
    return write_temp("rate.yaml", std::string(good_experiment) + "load:\n  http: { url: http://127.0.0.1:8080/, rate: " + rate + " }\n");
  };
  r = test::run_command(test::faultline_binary() + " validate " + load("99999999999999999999/s").string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("'99999999999999999999/s' is more than the highest rate faultline accepts (1000000/s)"));
  r = test::run_command(test::faultline_binary() + " validate " + load("1G/s").string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("'1G/s' is more than the highest rate faultline accepts (1000000/s)"));
  auto longer = write_temp("long.yaml", std::string(good_experiment).replace(std::string(good_experiment).find("for: 5s"), 7, "for: 8d"));
  r = test::run_command(test::faultline_binary() + " validate " + longer.string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("'8d' is longer than the longest duration faultline accepts (168h)"));
}

TEST_CASE("a corrupt state file is bad input and mistyped commands and options get a suggestion", "[engine]") {
  auto state = write_temp("corrupt-state.json", "{\"version\": 1, \"entries\": [{\"pid\": \"x\"}]}");
  auto r = test::run_command(test::faultline_binary() + " recover --state-file " + state.string());
  INFO(r.output);
  CHECK(r.exit_code == 2);  // issue 16: 4, "internal error"
  CHECK_THAT(r.output, Catch::Contains(state.string() + " is not a faultline state file"));
  state = write_temp("garbage-state.json", "\x01\x02 not json");
  r = test::run_command(test::faultline_binary() + " recover --state-file " + state.string());
  CHECK(r.exit_code == 2);

  r = test::run_command(test::faultline_binary() + " valdate x.yaml");
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("unknown command 'valdate': did you mean 'validate'?"));
  r = test::run_command(test::faultline_binary() + " run --dryrun x.yaml");
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("unknown option '--dryrun': did you mean '--dry-run'?"));
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
