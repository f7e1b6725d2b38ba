#include "faults/storm/storm_stats.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace faultline::storm;
using namespace std::chrono_literals;

TEST_CASE("outcome names are stable", "[faults][storm]") {
  CHECK(to_string(connection_outcome::established) == "established");
  CHECK(to_string(connection_outcome::closed_early) == "closed_early");
  for (std::size_t i = 0; i < outcome_count; ++i) {
    const auto o = static_cast<connection_outcome>(i);
    CHECK(outcome_from_string(to_string(o)) == o);
  }
  CHECK_FALSE(outcome_from_string("ok"));
}

TEST_CASE("storm reports add up and survive JSON", "[faults][storm]") {
  storm_report a;
  a.counts.attempts = 10;
  a.counts[connection_outcome::established] = 7;
  a.counts[connection_outcome::refused] = 3;
  a.counts.opened = 7;
  a.counts.held = 7;
  a.counts.peak_held = 7;
  a.connect_latency.record(1ms);
  a.connect_latency.record(3ms);
  a.elapsed = 2s;
  a.ramp = 1s;
  a.peak_rss_bytes = 1000;
  a.workers = 1;
  storm_report b = a;
  b.counts[connection_outcome::timed_out] = 2;
  b.ramp = 1500ms;
  b.handshake_latency.record(5ms);

  auto sum = a;
  sum.add(b);
  CHECK(sum.counts.attempts == 20);
  CHECK(sum.counts[connection_outcome::established] == 14);
  CHECK(sum.counts[connection_outcome::timed_out] == 2);
  CHECK(sum.counts.finished() == 22);
  CHECK(sum.connect_latency.count() == 4);
  CHECK(sum.handshake_latency.count() == 1);
  CHECK(sum.ramp == 1500ms);
  CHECK(sum.peak_rss_bytes == 2000);
  CHECK(sum.workers == 2);
  CHECK(sum.opened_per_second() == Approx(14 / 1.5));

  auto back = storm_report_from_json(nlohmann::json::parse(to_json(sum).dump()));
  CHECK(to_json(back) == to_json(sum));
  CHECK_THROWS_AS(storm_report_from_json(nlohmann::json::object()), std::invalid_argument);
}
