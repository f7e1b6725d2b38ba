// A tiny Catch2 binary for tests/support/ctest_conventions_test.sh: a test case that passes, one
// that skips and one that checks nothing, to see how ctest reports each with the main and the
// settings every discovered test gets.
#include "tests/support/skip.hpp"

#include <catch2/catch.hpp>

TEST_CASE("a test case that passes", "[support]") { CHECK(1 + 1 == 2); }

TEST_CASE("a test case that skips", "[support]") {
  faultline::test::skip("the probe skips on purpose");
  FAIL("skip() returned");
}

TEST_CASE("a test case that checks nothing", "[support]") {}
