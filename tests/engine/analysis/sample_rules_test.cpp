// Rules over sliding windows of samples: where each holds, and the moments it changes.

#include "engine/analysis/sample_rules.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using namespace faultline::engine;

namespace {

std::chrono::nanoseconds at(double s) { return std::chrono::microseconds(static_cast<std::int64_t>(std::llround(s * 1e6))); }

// Requests every `every` seconds in [from, to) with a latency and outcome from `shape(t)`.
template <typename Shape>
void add_load(probes::sample_log& log, double from, double to, double every, Shape shape) {
  for (int i = 0; from + i * every < to - 1e-9; ++i) {
    const double t = from + i * every;
    const auto [latency, o] = shape(t);
    log.add(at(t), at(latency), o, false, std::nullopt);
  }
}

}  // namespace

TEST_CASE("sample rules: an error rate over a sliding window changes at the sample that tips it", "[engine]") {
  probes::sample_log load;
  // 100 requests per second; one fails at 5.00 and one at 5.50.
  add_load(load, 0, 10, 0.01, [](double t) {
    const bool failed = std::abs(t - 5.0) < 1e-6 || std::abs(t - 5.5) < 1e-6;
    return std::pair{0.001, failed ? probes::outcome::http_5xx : probes::outcome::ok};
  });
  load.sort();
  // 1 error in 100 is 1%: "< 1%" breaks at the first failure and holds again once it leaves the
  // window (1 s later); the second failure keeps it broken until 6.50.
  const auto truth = rule_truth(parse_rule("load.error_rate < 1%"), &load, 1.0);
  REQUIRE(truth.size() == 4);
  CHECK(truth[0].at == 0);
  CHECK(truth[0].holds);
  CHECK(truth[1].at == Approx(5.0));
  CHECK_FALSE(truth[1].holds);
  CHECK(truth[1].resolution == Approx(0.01));
  CHECK(truth[2].at == Approx(6.5));
  CHECK(truth[2].holds);
  CHECK(truth[3].at == Approx(9.99 + 1));  // the last sample has left: no data
  CHECK_FALSE(truth[3].holds);
  CHECK(holds_at(truth, 4.99));
  CHECK_FALSE(holds_at(truth, 6.49));
  CHECK(holds_at(truth, 6.5));
}

TEST_CASE("sample rules: percentiles by nearest rank on exact latencies", "[engine]") {
  probes::sample_log load;
  // 20 requests in each second; from 2 s on, k of them are slow (k = second - 1).
  for (int s = 0; s < 5; ++s)
    for (int i = 0; i < 20; ++i) {
      const bool slow = i < s - 1;
      load.add(at(s + i * 0.05), at(slow ? 0.3 : 0.01), probes::outcome::ok, false, std::nullopt);
    }
  load.sort();
  // The p95 of 20 is the 19th smallest: one slow sample in the window keeps it fast, two do not.
  const auto truth = rule_truth(parse_rule("load.p95 < 250ms"), &load, 1.0);
  CHECK(holds_at(truth, 2.5));     // window (1.5, 2.5]: one slow sample
  CHECK(holds_at(truth, 2.99));
  CHECK_FALSE(holds_at(truth, 3.05));  // (2.05, 3.05]: two slow
  CHECK(holds_at(rule_truth(parse_rule("load.p95 <= 10ms"), &load, 1.0), 0.5));
  CHECK(holds_at(rule_truth(parse_rule("load.max < 250ms"), &load, 1.0), 1.99));
  CHECK_FALSE(holds_at(rule_truth(parse_rule("load.max < 250ms"), &load, 1.0), 2.0));
  CHECK(holds_at(rule_truth(parse_rule("load.min < 20ms"), &load, 1.0), 4.5));
  CHECK(holds_at(rule_truth(parse_rule("load.mean < 20ms"), &load, 1.0), 1.5));
  CHECK_FALSE(holds_at(rule_truth(parse_rule("load.mean < 20ms"), &load, 1.0), 4.99));
}

TEST_CASE("sample rules: no samples, gaps, counts and unknown series", "[engine]") {
  probes::sample_log load;
  add_load(load, 0, 3, 0.1, [](double) { return std::pair{0.001, probes::outcome::ok}; });
  add_load(load, 5, 8, 0.1, [](double) { return std::pair{0.001, probes::outcome::ok}; });
  load.sort();
  const auto ok = rule_truth(parse_rule("load.error_rate < 1%"), &load, 1.0);
  // The gap: the last sample before it is at 2.9; the window is empty from 3.9 until 5.0.
  CHECK(holds_at(ok, 3.89));
  CHECK_FALSE(holds_at(ok, 3.9));
  CHECK_FALSE(holds_at(ok, 4.99));
  CHECK(holds_at(ok, 5.0));
  // A count is 0 without samples, not unknown.
  const auto quiet = rule_truth(parse_rule("load.count < 5"), &load, 1.0);
  CHECK(holds_at(quiet, 4.5));
  CHECK_FALSE(holds_at(quiet, 2.5));
  CHECK(holds_at(rule_truth(parse_rule("load.rps >= 9/s"), &load, 1.0), 2.5));
  // No series: the rule never holds.
  const auto none = rule_truth(parse_rule("health.ok"), nullptr, 1.0);
  REQUIRE(none.size() == 1);
  CHECK_FALSE(none[0].holds);
  // "not" turns it round.
  CHECK_FALSE(holds_at(rule_truth(parse_rule("not load.ok"), &load, 1.0), 1.0));
}

TEST_CASE("sample rules: a probe's value changes halfway between two samples and expires", "[engine]") {
  probes::sample_log probe;
  // Read every 200 ms (completing 1 ms after the intended start): 0 until 2.0, then 1 from 2.2.
  for (int i = 0; i <= 20; ++i) {
    const double t = i * 0.2;
    probe.add(at(t), at(0.001), probes::outcome::ok, false, t < 2.1 ? 0.0 : 1.0);
  }
  // Checks stop answering after 4.0: no value, so it goes stale one span after the last one.
  probe.add(at(4.2), at(1.0), probes::outcome::timeout, false, std::nullopt);
  probe.sort();
  const auto truth = rule_truth(parse_rule("breaker.value == 0"), &probe, 1.0);
  REQUIRE(truth.size() == 3);
  CHECK(truth[1].at == Approx(0.001));
  CHECK(truth[1].holds);
  CHECK(truth[2].at == Approx(2.101));  // halfway between 2.001 and 2.201
  CHECK_FALSE(truth[2].holds);
  CHECK(truth[2].resolution == Approx(0.2));
  const auto open = rule_truth(parse_rule("breaker.value == 1"), &probe, 1.0);
  CHECK(holds_at(open, 4.9));
  CHECK_FALSE(holds_at(open, 5.001));  // the last value, read at 4.001, expired
}

TEST_CASE("sample rules: steady state is where every rule holds", "[engine]") {
  series_samples samples;
  auto& load = samples["load"];
  add_load(load, 0, 10, 0.02, [](double t) {
    return std::pair{t >= 4 && t < 5 ? 0.4 : 0.001, probes::outcome::ok};
  });
  load.sort();
  auto& probe = samples["breaker"];
  for (int i = 0; i < 50; ++i) probe.add(at(i * 0.2), at(0.001), probes::outcome::ok, false, i * 0.2 < 6.5 ? 0.0 : 1.0);
  probe.sort();
  const std::vector<rule> rules{parse_rule("load.p95 < 250ms"), parse_rule("breaker.value == 0")};
  const auto steady = steady_truth(rules, samples, 1.0);
  CHECK(holds_at(steady, 1.0));
  CHECK_FALSE(holds_at(steady, 4.5));   // slow
  CHECK(holds_at(steady, 6.0));         // the slow samples have left the window
  CHECK_FALSE(holds_at(steady, 7.0));   // the breaker opened
  CHECK(steady_truth({}, samples, 1.0) == std::vector<truth_change>{{0, true, 0}});
}
