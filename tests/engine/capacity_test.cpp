// The capacity search on a model system: steps up, bisects, stops at the precision, the limit, or
// when even the first rate breaks; and the knee of a latency curve.

#include "engine/capacity.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace faultline;
using namespace faultline::engine;

namespace {

// A system that holds every rate up to `capacity`; p99 grows as it nears it (M/M/1-like).
capacity_trial model(double rate, double capacity) {
  capacity_trial t;
  t.rate = rate;
  t.held = rate <= capacity;
  t.achieved = std::min(rate, capacity);
  const double load = std::min(rate / capacity, 0.99);
  t.p99 = 0.001 / (1 - load);
  return t;
}

capacity_result search_on(double capacity, capacity_search_spec spec = {}) {
  capacity_search s(spec);
  int guard = 0;
  while (auto r = s.next()) {
    REQUIRE(++guard < 100);
    s.record(model(*r, capacity));
  }
  return s.result();
}

}  // namespace

TEST_CASE("the capacity search steps up, then bisects to the precision", "[engine]") {
  for (double n : {150.0, 730.0, 1234.0, 9000.0}) {
    INFO("capacity " << n);
    const auto r = search_on(n);
    CHECK(r.capacity <= n);
    CHECK(r.capacity >= n * 0.95);
    REQUIRE(r.broke_at);
    CHECK(*r.broke_at > n);
    CHECK(*r.broke_at - r.capacity <= 0.05 * *r.broke_at);
    CHECK_FALSE(r.at_limit);
    CHECK(r.trials.size() <= 14);
  }
}

TEST_CASE("the capacity search ends at up_to, or below from, or when stopped", "[engine]") {
  capacity_search_spec spec;
  spec.from = 100;
  spec.up_to = 1000;
  auto high = search_on(1e9, spec);
  CHECK(high.at_limit);
  CHECK(high.capacity == Approx(1000));
  CHECK(high.trials.back().rate == Approx(1000));  // the last step is cut to up_to

  auto low = search_on(30, spec);  // even 100/s breaks: steps down, then bisects
  CHECK(low.capacity <= 30);
  CHECK(low.capacity >= 30 * 0.95);

  auto none = search_on(0.1, spec);
  CHECK(none.capacity == 0);
  REQUIRE(none.broke_at);

  capacity_search s(spec);
  s.record(model(100, 500));
  CHECK(s.trials_left_at_most() >= 4);
  s.stop_early();
  CHECK_FALSE(s.next());
  CHECK(s.result().out_of_time);
  CHECK(s.result().capacity == Approx(100));
}

TEST_CASE("a rate that holds above one that broke (noise) reopens the search above", "[engine]") {
  capacity_search s({});
  s.record(model(100, 1000));
  capacity_trial noisy = model(200, 1000);
  noisy.held = false;
  s.record(noisy);
  REQUIRE(s.next());
  CHECK(*s.next() == Approx(150));  // bisects between 100 and 200
  s.record(model(150, 1000));
  s.record(model(400, 1000));  // a later trial holds above the one that broke
  CHECK_FALSE(s.result().broke_at);
  CHECK(*s.next() == Approx(800));  // steps up again
}

TEST_CASE("the knee is where p99 leaves the straight line", "[engine]") {
  std::vector<capacity_trial> curve;
  for (double r : {100.0, 200.0, 400.0, 800.0, 900.0, 950.0}) curve.push_back(model(r, 1000));
  const auto knee = knee_of(curve);
  REQUIRE(knee);
  CHECK(*knee == Approx(800));

  std::vector<capacity_trial> straight;
  for (double r : {100.0, 200.0, 300.0}) {
    capacity_trial t;
    t.rate = r;
    t.p99 = r / 1e5;
    straight.push_back(t);
  }
  CHECK_FALSE(knee_of(straight));
  CHECK_FALSE(knee_of({model(100, 1000), model(900, 1000)}));  // too few points
}

TEST_CASE("capacity search settings are checked", "[engine]") {
  params p;
  p.set("trial", std::chrono::nanoseconds(std::chrono::seconds(2)));
  p.set("warmup", std::chrono::nanoseconds(std::chrono::seconds(3)));
  try {
    capacity_search_from(p);
    FAIL("accepted");
  } catch (const param_error& e) {
    CHECK(e.param() == "warmup");
  }
}
