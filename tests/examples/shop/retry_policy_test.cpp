#include "examples/shop/retry_policy.hpp"

#include <catch2/catch.hpp>

using namespace faultline::shop;
using namespace std::chrono_literals;

TEST_CASE("backoff doubles per retry, jittered within its upper half, and is capped", "[examples][shop]") {
  retry_policy policy{4, 20ms, 100ms};
  std::mt19937_64 random(42);
  for (int i = 0; i < 200; ++i) {
    const auto first = policy.delay_after(1, random);
    CHECK(first >= 10ms);
    CHECK(first <= 20ms);
    const auto second = policy.delay_after(2, random);
    CHECK(second >= 20ms);
    CHECK(second <= 40ms);
    const auto third = policy.delay_after(3, random);
    CHECK(third >= 40ms);
    CHECK(third <= 80ms);
    const auto capped = policy.delay_after(30, random);  // would be 20ms * 2^29 uncapped
    CHECK(capped >= 50ms);
    CHECK(capped <= 100ms);
  }
}

TEST_CASE("a zero backoff retries at once", "[examples][shop]") {
  retry_policy policy{3, 0ms, 0ms};
  std::mt19937_64 random(1);
  CHECK(policy.delay_after(1, random) == 0ms);
  CHECK(policy.delay_after(2, random) == 0ms);
}
