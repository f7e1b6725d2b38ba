// The manual page is written from the CLI itself: every command and every option `--help` shows
// is in it, with the exit codes, the fault types and the experiment format; groff reads it without
// a warning.

#include "tests/support/command.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

using namespace faultline;

namespace {

// The command names `faultline --help` lists, and the long options `faultline CMD --help` lists.
std::set<std::string> matches(const std::string& text, const std::regex& re) {
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str());
  return out;
}

// roff writes '-' as '\-'.
std::string as_roff(std::string text) {
  std::string out;
  for (char c : text) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

}  // namespace

TEST_CASE("the manual page has every command and option the CLI's help shows", "[engine]") {
  auto page = test::run_command(test::faultline_binary() + " --generate man");
  REQUIRE(page.exit_code == 0);
  auto help = test::run_command(test::faultline_binary() + " --help");
  auto section = help.output.substr(help.output.find("Subcommands:"));
  auto commands = matches(section, std::regex("\n  ([a-z-]+) "));
  REQUIRE(commands.size() >= 9);
  for (const auto& command : commands) {
    INFO(command);
    CHECK_THAT(page.output, Catch::Contains(".SS \"faultline " + as_roff(command) + " [OPTIONS]"));
    auto options = matches(test::run_command(test::faultline_binary() + " " + command + " --help").output,
                           std::regex("(--[a-z][a-z-]+)"));
    for (const auto& option : options) {
      INFO(option);
      if (option != "--help") CHECK_THAT(page.output, Catch::Contains(as_roff(option)));
    }
  }
  CHECK_THAT(page.output, !Catch::Contains("storm\\-worker"));  // hidden commands stay hidden
  CHECK_THAT(page.output, Catch::Contains(".SH EXIT STATUS") && Catch::Contains(".SH EXPERIMENT FORMAT") &&
                              Catch::Contains(".SH FAULT TYPES") && Catch::Contains(".SH PRIVILEGES"));
  CHECK_THAT(page.output, Catch::Contains("\\fBnetwork\\fR (network)") && Catch::Contains("needs CAP_NET_ADMIN"));
  for (int code = 0; code <= 4; ++code) CHECK_THAT(page.output, Catch::Contains(".TP\n.B " + std::to_string(code) + "\n"));
}

TEST_CASE("groff formats the manual page without a warning", "[engine]") {
  if (test::run_command("command -v groff").exit_code != 0) {
    FAIL("groff is not installed (Debian package groff-base, which man-db needs)");
  }
  const auto page = std::filesystem::temp_directory_path() / "faultline-man-page-test.1";
  REQUIRE(test::run_command(test::faultline_binary() + " --generate man > " + page.string()).exit_code == 0);
  // -ww: all warnings; -z: no output, only the diagnostics (run_command merges stderr).
  auto r = test::run_command("groff -man -Tutf8 -ww -z " + page.string());
  std::filesystem::remove(page);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.empty());
}
