#include "tests/support/skip.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace faultline::test {

void skip(std::string_view reason) {
  std::fprintf(stdout, "skipped: %.*s\n", static_cast<int>(reason.size()), reason.data());
  std::fflush(stdout);
  std::fflush(stderr);
  // No unwinding and no static destructors: the test may have threads and servers running.
  std::_Exit(skip_exit_code);
}

void skip_unless_installed(std::string_view program, std::string_view debian_package) {
  const std::string check = "command -v '" + std::string(program) + "' >/dev/null 2>&1";
  if (std::system(check.c_str()) != 0)
    skip(std::string(program) + " is not installed; install the Debian package " + std::string(debian_package));
}

}  // namespace faultline::test
