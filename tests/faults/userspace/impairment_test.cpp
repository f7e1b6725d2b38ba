#include "faults/userspace/impairment.hpp"

#include "faults/netem/distribution_table.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace faultline::faults;
using namespace std::chrono_literals;
using userspace::impairment_model;

namespace {

network::network_spec base_spec() {
  network::network_spec s;
  s.device = "veth0";
  return s;
}

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

TEST_CASE("correlated_random follows netem's get_crandom", "[faults]") {
  std::mt19937 a(7), b(7);
  userspace::correlated_random independent(0);
  for (int i = 0; i < 5; ++i) CHECK(independent.next(a) == b());

  // rho = 0.5 scaled as netem scales it (+1): each value is the weighted mean of a fresh draw
  // and the last value.
  std::mt19937 c(11), d(11);
  userspace::correlated_random half(0.5);
  const std::uint64_t rho = std::uint64_t{2147483648} + 1;
  std::uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t value = d();
    last = (value * ((std::uint64_t{1} << 32) - rho) + last * rho) >> 32;
    CHECK(half.next(c) == last);
  }
}

TEST_CASE("random loss drops the configured share of packets", "[faults]") {
  auto s = base_spec();
  s.loss = network::chance{0.10, 0};
  impairment_model m(s, {}, 42);
  int dropped = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) dropped += m.decide().original ? 0 : 1;
  CHECK(dropped / double(n) == Approx(0.10).margin(0.006));

  s.loss = network::chance{1.0, 0};
  impairment_model all(s, {}, 1);
  for (int i = 0; i < 100; ++i) CHECK_FALSE(all.decide().original);
}

TEST_CASE("Gilbert-Elliott loss comes in bursts at the stationary rate", "[faults]") {
  auto s = base_spec();
  s.loss_model = network::gilbert_elliott{0.01, 0.10, 1.0, 0.0};
  impairment_model m(s, {}, 3);
  int lost = 0, bursts = 0;
  bool previous = false;
  const int n = 400000;
  for (int i = 0; i < n; ++i) {
    const bool now = !m.decide().original;
    lost += now;
    if (now && !previous) ++bursts;
    previous = now;
  }
  // Stationary share of the bad state p / (p + r) = 0.0909; mean burst 1 / r = 10 packets.
  CHECK(lost / double(n) == Approx(0.0909).margin(0.01));
  CHECK(lost / double(bursts) == Approx(10).margin(1.5));
}

TEST_CASE("uniform jitter stays within delay +/- jitter around the delay", "[faults]") {
  auto s = base_spec();
  s.delay = 50ms;
  s.jitter = 10ms;
  impairment_model m(s, {}, 5);
  double sum = 0, lo = 1e9, hi = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto plan = *m.decide().original;
    sum += ms(plan.delay);
    lo = std::min(lo, ms(plan.delay));
    hi = std::max(hi, ms(plan.delay));
  }
  CHECK(lo >= 40.0);
  CHECK(hi < 60.0);
  CHECK(sum / n == Approx(50).margin(0.3));
}

TEST_CASE("table_delay scales a table value of 8192 to one jitter, as netem does", "[faults]") {
  const std::vector<std::int16_t> plus{8192}, minus{-8192}, half{4096};
  CHECK(impairment_model::table_delay(50ms, 10ms, plus, 0) == 60ms);
  CHECK(impairment_model::table_delay(50ms, 10ms, minus, 0) == 40ms);
  CHECK(impairment_model::table_delay(50ms, 10ms, half, 0) == 55ms);
  CHECK(impairment_model::table_delay(50ms, 0ms, plus, 0) == 50ms);
  // Uniform: ((rnd % (2 sigma)) + mu) - sigma.
  CHECK(impairment_model::table_delay(50ms, 10ms, {}, 0) == 40ms);
  CHECK(impairment_model::table_delay(50ms, 10ms, {}, 5'000'000) == 45ms);
}

TEST_CASE("normal jitter from iproute2's table has the configured spread", "[faults]") {
  std::vector<std::int16_t> table;
  try {
    table = network::load_distribution_table(network::delay_distribution::normal);
  } catch (const std::exception& e) {
    WARN("skipped: " << e.what());
    return;
  }
  auto s = base_spec();
  s.delay = 50ms;
  s.jitter = 10ms;
  s.distribution = network::delay_distribution::normal;
  impairment_model m(s, table, 9);
  double sum = 0, squares = 0;
  const int n = 50000;
  for (int i = 0; i < n; ++i) {
    const double d = ms(m.decide().original->delay);
    sum += d;
    squares += d * d;
  }
  const double mean = sum / n;
  CHECK(mean == Approx(50).margin(0.3));
  CHECK(std::sqrt(squares / n - mean * mean) == Approx(10).margin(0.7));
}

TEST_CASE("reorder sends the configured share at once, gap makes it every gap-th packet", "[faults]") {
  auto s = base_spec();
  s.delay = 10ms;
  s.reorder = network::chance{0.25, 0};
  impairment_model by_chance(s, {}, 13);
  int reordered = 0;
  for (int i = 0; i < 40000; ++i) {
    auto plan = *by_chance.decide().original;
    if (plan.reordered) {
      ++reordered;
      CHECK(plan.delay == 0ms);
    }
  }
  CHECK(reordered / 40000.0 == Approx(0.25).margin(0.01));

  s.reorder = network::chance{1.0, 0};
  s.gap = 5;
  impairment_model by_gap(s, {}, 17);
  for (int i = 1; i <= 50; ++i) CHECK(by_gap.decide().original->reordered == (i % 5 == 0));
}

TEST_CASE("duplicate sends a copy, a lost duplicate still sends the packet once", "[faults]") {
  auto s = base_spec();
  s.delay = 5ms;
  s.duplicate = network::chance{1.0, 0};
  impairment_model always(s, {}, 19);
  for (int i = 0; i < 20; ++i) {
    auto fate = always.decide();
    REQUIRE(fate.original);
    REQUIRE(fate.copy);
    CHECK(fate.copy->delay == 5ms);
  }
  s.loss = network::chance{1.0, 0};
  impairment_model lossy(s, {}, 23);
  for (int i = 0; i < 20; ++i) {
    auto fate = lossy.decide();
    CHECK(fate.original);
    CHECK_FALSE(fate.copy);
  }
}

TEST_CASE("corrupt marks the configured share and picks a bit inside the payload", "[faults]") {
  auto s = base_spec();
  s.corrupt = network::chance{0.5, 0};
  impairment_model m(s, {}, 29);
  int corrupt = 0;
  for (int i = 0; i < 20000; ++i) corrupt += m.decide().original->corrupt;
  CHECK(corrupt / 20000.0 == Approx(0.5).margin(0.02));
  for (int i = 0; i < 1000; ++i) {
    auto [byte, bit] = m.corrupt_position(8);
    CHECK(byte < 8);
    CHECK(bit >= 0);
    CHECK(bit < 8);
  }
}
