#pragma once
// A test that cannot run here (no root, no sch_netem, no Node.js) says so instead of passing:
// skip() prints why and ends the test process with the exit code ctest reports as "Skipped"
// (every discovered test has SKIP_RETURN_CODE set to it; tests/CMakeLists.txt). Under ctest each
// test case is its own process; run by hand, the run ends at the first skip.

#include <string_view>

namespace faultline::test {

inline constexpr int skip_exit_code = FAULTLINE_TEST_SKIP_CODE;

[[noreturn]] void skip(std::string_view reason);

// Skips, naming the Debian package to install, unless `program` is on the PATH.
void skip_unless_installed(std::string_view program, std::string_view debian_package);

}  // namespace faultline::test
