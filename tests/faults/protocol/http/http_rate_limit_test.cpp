// http_rate_limit's bucket on a made-up clock: the rate it lets through under a steady load with
// jittered arrivals, and its burst after a quiet spell.
#include "faults/protocol/http/http_toxics.hpp"
#include "tests/faults/protocol/http/http_harness.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

using namespace faultline;
using namespace std::chrono_literals;
namespace fh = faultline::protocol::http;

namespace {

// Requests arriving every `gap` from `start` for `span`, at 1/4 of the gap past the grid; how
// many the toxic lets through.
int admitted(const fh::http_rate_limit_toxic& limit, proxy::time_point start, proxy::duration gap, proxy::duration span) {
  int through = 0;
  for (auto t = start + gap / 4; t < start + span; t += gap)
    if (!limit.admit(t)) ++through;
  return through;
}

}  // namespace

TEST_CASE("http_rate_limit lets its rate through under a steady load whatever the arrivals' spacing", "[faults][protocol]") {
  const auto start = proxy::time_point{} + 1000s;
  SECTION("100/s, arrivals every 2 ms (500/s): 100 a second, not the ~90 a restarting schedule gives") {
    auto limit = test::make<fh::http_rate_limit_toxic>({{"rate", 100.0}});
    CHECK(admitted(*limit, start, 2ms, 10s) == 1000);
  }
  SECTION("100/s, arrivals every 3 ms, which never land on a token's due time") {
    auto limit = test::make<fh::http_rate_limit_toxic>({{"rate", 100.0}});
    const int through = admitted(*limit, start, 3ms, 10s);
    CHECK(through >= 999);
    CHECK(through <= 1001);
  }
  SECTION("arrivals slower than the rate all pass") {
    auto limit = test::make<fh::http_rate_limit_toxic>({{"rate", 100.0}});
    CHECK(admitted(*limit, start, 15ms, 3s) == 200);
  }
}

TEST_CASE("http_rate_limit lets burst requests through at once after a quiet spell, then one per interval", "[faults][protocol]") {
  const auto start = proxy::time_point{} + 1000s;
  auto limit = test::make<fh::http_rate_limit_toxic>({{"rate", 10.0}, {"burst", std::int64_t{3}}});
  int at_once = 0;
  for (int i = 0; i < 10; ++i)
    if (!limit->admit(start)) ++at_once;
  CHECK(at_once == 3);
  const auto wait = limit->admit(start);
  REQUIRE(wait);
  CHECK(*wait > 0ms);
  CHECK(*wait <= 100ms);
  CHECK_FALSE(limit->admit(start + 100ms));  // the next token, one interval on
  CHECK(limit->admit(start + 150ms));        // and no other before the one after
  // A quiet spell refills the bucket: three at once again.
  int after_quiet = 0;
  for (int i = 0; i < 10; ++i)
    if (!limit->admit(start + 10s)) ++after_quiet;
  CHECK(after_quiet == 3);
}
