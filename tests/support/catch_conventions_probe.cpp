// A tiny Catch2 binary for tests/support/ctest_conventions_test.sh: one test case that passes and
// one that skips, to see how ctest reports each with the settings every discovered test gets.
#include "tests/support/skip.hpp"

#include <catch2/catch.hpp>

TEST_CASE("a test case that passes", "[support]") { CHECK(1 + 1 == 2); }

TEST_CASE("a test case that skips", "[support]") {
  faultline::test::skip("the probe skips on purpose");
  FAIL("skip() returned");
}
