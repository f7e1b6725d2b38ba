#include "examples/shop/circuit_breaker.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace faultline::shop;
using namespace std::chrono_literals;
using clock_point = circuit_breaker::clock::time_point;

namespace {

// Time that moves only when told to.
struct manual_clock {
  clock_point now = clock_point{} + 1h;
  void advance(std::chrono::nanoseconds d) { now += d; }
};

// A breaker whose transitions are kept for inspection.
struct recorded_breaker {
  explicit recorded_breaker(breaker_config c)
      : breaker(c, [this](const breaker_transition& t) { seen.push_back(t); }) {}

  // One call that takes `elapsed` and ends with `result`; false if the breaker refused it.
  bool call(manual_clock& clock, call_result result, std::chrono::nanoseconds elapsed = 1ms) {
    const auto permit = breaker.try_acquire(clock.now);
    if (!permit.allowed) return false;
    clock.advance(elapsed);
    breaker.record(permit, result, elapsed, clock.now);
    return true;
  }

  std::vector<breaker_transition> seen;
  circuit_breaker breaker;
};

breaker_config consecutive(int failures) {
  breaker_config c;
  c.rule = trip_rule::consecutive_failures;
  c.consecutive_failures = failures;
  c.cooldown = 5s;
  c.half_open_trials = 2;
  return c;
}

}  // namespace

TEST_CASE("consecutive failures open the breaker, a success in between starts the count again", "[examples][shop]") {
  manual_clock clock;
  recorded_breaker b(consecutive(3));
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.call(clock, call_result::success));
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.breaker.state() == breaker_state::closed);
  CHECK(b.seen.empty());
  CHECK(b.call(clock, call_result::failure));
  REQUIRE(b.seen.size() == 1);
  CHECK(b.seen[0].from == breaker_state::closed);
  CHECK(b.seen[0].to == breaker_state::open);
  CHECK(b.seen[0].at == clock.now);
  CHECK(b.seen[0].reason == "reason=consecutive_failures failures=3 last=error");
  CHECK(b.breaker.state() == breaker_state::open);
  CHECK_FALSE(b.call(clock, call_result::success));  // refused while open
}

TEST_CASE("timeouts and slow successes count as failures", "[examples][shop]") {
  manual_clock clock;
  auto config = consecutive(3);
  config.slow_call = 200ms;
  recorded_breaker b(config);
  CHECK(b.call(clock, call_result::timeout, 300ms));
  CHECK(b.call(clock, call_result::success, 250ms));  // answered, but too slowly
  CHECK(b.call(clock, call_result::success, 199ms));  // fast enough: resets the count
  CHECK(b.call(clock, call_result::success, 200ms));
  CHECK(b.call(clock, call_result::timeout, 300ms));
  CHECK(b.breaker.state() == breaker_state::closed);
  CHECK(b.call(clock, call_result::success, 1s));
  REQUIRE(b.seen.size() == 1);
  CHECK(b.seen[0].reason == "reason=consecutive_failures failures=3 last=slow");

  SECTION("without a slow-call threshold, slowness alone never opens it") {
    recorded_breaker patient(consecutive(1));
    for (int i = 0; i < 10; ++i) CHECK(patient.call(clock, call_result::success, 10s));
    CHECK(patient.breaker.state() == breaker_state::closed);
  }
}

TEST_CASE("open for the cool-down, then half-open with a limited number of trials", "[examples][shop]") {
  manual_clock clock;
  recorded_breaker b(consecutive(1));
  CHECK(b.call(clock, call_result::timeout));
  const clock_point opened = clock.now;
  CHECK(b.breaker.open_until() == opened + 5s);

  clock.advance(5s - 1ns);
  b.breaker.poll(clock.now);
  CHECK(b.breaker.state() == breaker_state::open);
  CHECK_FALSE(b.breaker.try_acquire(clock.now).allowed);

  clock.advance(1ns);
  b.breaker.poll(clock.now);  // the shop's timer does this when the cool-down ends
  CHECK(b.breaker.state() == breaker_state::half_open);
  REQUIRE(b.seen.size() == 2);
  CHECK(b.seen[1].from == breaker_state::open);
  CHECK(b.seen[1].to == breaker_state::half_open);
  CHECK(b.seen[1].at == opened + 5s);
  CHECK(b.seen[1].reason == "reason=cooldown_elapsed cooldown_ms=5000");

  const auto first = b.breaker.try_acquire(clock.now);
  const auto second = b.breaker.try_acquire(clock.now);
  const auto third = b.breaker.try_acquire(clock.now);
  CHECK((first.allowed && first.trial));
  CHECK((second.allowed && second.trial));
  CHECK_FALSE(third.allowed);  // two trials at a time at most

  SECTION("all trials succeeding close it") {
    b.breaker.record(first, call_result::success, 1ms, clock.now);
    CHECK(b.breaker.state() == breaker_state::half_open);
    b.breaker.record(second, call_result::success, 1ms, clock.now);
    CHECK(b.breaker.state() == breaker_state::closed);
    REQUIRE(b.seen.size() == 3);
    CHECK(b.seen[2].reason == "reason=trials_succeeded trials=2");
    CHECK(b.call(clock, call_result::success));
  }
  SECTION("one failing trial opens it again, with a fresh cool-down") {
    b.breaker.record(first, call_result::success, 1ms, clock.now);
    clock.advance(10ms);
    b.breaker.record(second, call_result::timeout, 10ms, clock.now);
    CHECK(b.breaker.state() == breaker_state::open);
    CHECK(b.breaker.open_until() == clock.now + 5s);
    REQUIRE(b.seen.size() == 3);
    CHECK(b.seen[2].from == breaker_state::half_open);
    CHECK(b.seen[2].reason == "reason=trial_failed last=timeout");
  }
  SECTION("try_acquire also notices the end of the cool-down, without poll") {
    b.breaker.record(first, call_result::failure, 1ms, clock.now);
    clock.advance(5s);
    CHECK(b.breaker.try_acquire(clock.now).trial);
    CHECK(b.breaker.state() == breaker_state::half_open);
  }
}

TEST_CASE("a call allowed in an earlier state cannot decide a later one", "[examples][shop]") {
  manual_clock clock;
  recorded_breaker b(consecutive(1));
  const auto slow_call = b.breaker.try_acquire(clock.now);  // allowed while closed
  CHECK(b.call(clock, call_result::failure));              // opens it
  clock.advance(5s);
  b.breaker.poll(clock.now);
  REQUIRE(b.breaker.state() == breaker_state::half_open);
  b.breaker.record(slow_call, call_result::failure, 5s, clock.now);  // finishes only now
  CHECK(b.breaker.state() == breaker_state::half_open);
  b.breaker.record(slow_call, call_result::success, 5s, clock.now);
  CHECK(b.breaker.state() == breaker_state::half_open);
  CHECK(b.seen.size() == 2);
}

TEST_CASE("failure-rate rule: judged over the last calls once there are enough", "[examples][shop]") {
  manual_clock clock;
  breaker_config c;
  c.rule = trip_rule::failure_rate;
  c.failure_rate = 0.5;
  c.window = 10;
  c.minimum_calls = 4;
  recorded_breaker b(c);

  CHECK(b.call(clock, call_result::failure));
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.breaker.state() == breaker_state::closed);  // 3 calls: too few to judge

  for (int i = 0; i < 7; ++i) CHECK(b.call(clock, call_result::success));
  CHECK(b.breaker.state() == breaker_state::closed);  // 3 of 10 failed

  // Each new failure pushes the oldest call out of the window of 10.
  CHECK(b.call(clock, call_result::failure));  // window: F F S*7 F   = 3/10
  CHECK(b.call(clock, call_result::failure));  // F S*7 F F           = 3/10
  CHECK(b.call(clock, call_result::failure));  // S*7 F F F           = 3/10
  CHECK(b.call(clock, call_result::failure));  // S*6 F*4             = 4/10
  CHECK(b.breaker.state() == breaker_state::closed);
  CHECK(b.call(clock, call_result::timeout));  // S*5 F*5             = 5/10
  CHECK(b.breaker.state() == breaker_state::open);
  REQUIRE(b.seen.size() == 1);
  CHECK(b.seen[0].reason == "reason=failure_rate failures=5 calls=10 rate=0.500 last=timeout");
}

TEST_CASE("closing starts the count afresh", "[examples][shop]") {
  manual_clock clock;
  recorded_breaker b(consecutive(2));
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.call(clock, call_result::failure));
  clock.advance(5s);
  CHECK(b.call(clock, call_result::success));
  CHECK(b.call(clock, call_result::success));
  REQUIRE(b.breaker.state() == breaker_state::closed);
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.breaker.state() == breaker_state::closed);  // one failure, not three
  CHECK(b.call(clock, call_result::failure));
  CHECK(b.breaker.state() == breaker_state::open);
  CHECK(b.seen.size() == 4);
}

TEST_CASE("breaker states have the names and numbers the metrics use", "[examples][shop]") {
  CHECK(to_string(breaker_state::closed) == "closed");
  CHECK(to_string(breaker_state::open) == "open");
  CHECK(to_string(breaker_state::half_open) == "half_open");
  CHECK(static_cast<int>(breaker_state::closed) == 0);
  CHECK(static_cast<int>(breaker_state::open) == 1);
  CHECK(static_cast<int>(breaker_state::half_open) == 2);
}
