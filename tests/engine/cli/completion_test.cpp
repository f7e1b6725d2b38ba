// The bash completion is written from the CLI itself: bash completes commands and their options.

#include "tests/support/command.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace faultline;

namespace {

// What the completion offers for the words typed so far (the last one is being completed).
std::string complete(const std::filesystem::path& script, const std::string& words) {
  auto r = test::run_command("bash -c 'source " + script.string() + "; COMP_WORDS=(" + words +
                             "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _faultline; echo \"${COMPREPLY[*]}\"'");
  REQUIRE(r.exit_code == 0);
  return r.output;
}

}  // namespace

TEST_CASE("bash completes faultline's commands and each command's options", "[engine]") {
  const auto script = std::filesystem::temp_directory_path() / "faultline-completion-test.bash";
  REQUIRE(test::run_command(test::faultline_binary() + " --generate bash-completion > " + script.string()).exit_code == 0);
  CHECK(complete(script, "faultline ru") == "run\n");
  CHECK(complete(script, "faultline re") == "recover report\n");
  CHECK(complete(script, "faultline run --dr") == "--dry-run\n");
  CHECK(complete(script, "faultline load --ra") == "--rate\n");
  CHECK(complete(script, "faultline proxy --a") == "--allow-non-loopback --api\n");
  // After an option that takes a value, files are offered, not options.
  CHECK(complete(script, "faultline run --report-dir /nonexistent-dir-for-completion/") == "\n");
  CHECK(complete(script, "faultline storm-w").find("storm-worker") == std::string::npos);
  std::filesystem::remove(script);
}
