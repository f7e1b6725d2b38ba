// `faultline --version`: the version, the commit the binary was built from, and the versions of
// the compiler and the libraries it was built against.

#include "tests/support/command.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace faultline;

TEST_CASE("faultline --version names the version, the commit and the libraries", "[engine]") {
  auto r = test::run_command(test::faultline_binary() + " --version");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(std::regex_search(r.output, std::regex("^faultline [0-9]+\\.[0-9]+\\.[0-9]+\n")));
  // A git checkout gives the abbreviated commit; a source tree without git says so.
  CHECK(std::regex_search(r.output, std::regex("\ncommit ([0-9a-f]{12}( \\(modified\\))?|unknown)\n")));
  CHECK(std::regex_search(r.output, std::regex("\nbuilt with [A-Za-z]+ [0-9.]+ against:\n")));
  for (const char* library : {"Boost", "libnl", "yaml-cpp", "libpq", "hiredis", "libnetfilter_queue", "spdlog", "fmt"}) {
    INFO(library);
    CHECK(std::regex_search(r.output, std::regex(std::string("\n  ") + library + " +[0-9]+\\.[0-9]+")));
  }
}
