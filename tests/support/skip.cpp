#include "tests/support/skip.hpp"

#include <cstdio>
#include <cstdlib>

namespace faultline::test {

void skip(std::string_view reason) {
  std::fprintf(stdout, "skipped: %.*s\n", static_cast<int>(reason.size()), reason.data());
  std::fflush(stdout);
  std::fflush(stderr);
  // No unwinding and no static destructors: the test may have threads and servers running.
  std::_Exit(skip_exit_code);
}

}  // namespace faultline::test
