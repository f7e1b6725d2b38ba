// Breaker transitions from synthetic sample streams whose true transitions are known: a simulated
// breaker (tests/support/breaker_world.hpp) driven by an open load, watched by a state probe.

#include "engine/analysis/breaker.hpp"
#include "tests/support/breaker_world.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using namespace faultline::engine;
using test::breaker_world;

namespace {

constexpr double fast_failure = 0.05;

int code(breaker_state s) { return static_cast<int>(s); }

// Every true transition has an event of the same kind whose interval holds it (within 1 ms, the
// simulated answer time), and there are no others.
void check_matches_truth(const std::vector<breaker_event>& events, const breaker_world& w) {
  INFO("events: " << events.size() << ", true transitions: " << w.truth.size());
  REQUIRE(events.size() == w.truth.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const auto& t = w.truth[i];
    INFO("transition " << i << ": true " << t.from << "->" << t.to << " at " << t.at << ", seen " << to_string(e.from)
                       << "->" << to_string(e.to) << " at " << e.at << " in (" << e.after << ", " << e.by << "] by "
                       << e.seen_by);
    CHECK(code(e.from) == t.from);
    CHECK(code(e.to) == t.to);
    CHECK(t.at > e.after - 0.002);
    CHECK(t.at <= e.by + 0.002);
    CHECK(std::abs(e.at - t.at) <= e.resolution() / 2 + 0.002);
  }
}

}  // namespace

TEST_CASE("breaker: a state probe slower than the load, and the load pins each transition down", "[engine]") {
  breaker_world w;
  w.rate = 50;
  w.probe_every = 0.2;
  w.call_timeout = 0.3;  // half-open lasts 300 ms: the probe sees most of them
  w.run();
  REQUIRE(w.half_open_reopenings() >= 3);

  const auto seen = transitions_from_probe(w.probe);
  for (const auto& e : seen) CHECK(e.resolution() == Approx(0.2).margin(0.001));
  const auto events = refine_with_load(seen, w.load, fast_failure);
  check_matches_truth(events, w);
  // Refined to the load's spacing: 20 ms (a failed trial's answer is its completion).
  for (const auto& e : events) CHECK(e.resolution() <= 0.0201);

  const auto r = summarize_breaker(events, w.fault_start, w.fault_end, "probe:breaker");
  CHECK(r.flaps == w.half_open_reopenings());
  REQUIRE(r.time_to_open);
  CHECK(*r.time_to_open == Approx(*w.first(0, 1) - w.fault_start).margin(0.011));
  CHECK(*r.time_to_open_resolution <= 0.0201);
  REQUIRE(r.time_to_close);
  CHECK(*r.time_to_close == Approx(*w.last(2, 0) - w.fault_end).margin(0.011));
}

TEST_CASE("breaker: half-open trials shorter than the probe's period are still flaps", "[engine]") {
  breaker_world w;
  w.rate = 100;
  w.probe_every = 0.2;
  w.call_timeout = 0.08;  // a trial fails in 80 ms: most half-open states fall between two probe samples
  w.cooldown = 0.5;
  w.run();
  const int reopenings = w.half_open_reopenings();
  REQUIRE(reopenings >= 10);

  const auto seen = transitions_from_probe(w.probe);
  const auto probe_flaps = std::count_if(seen.begin(), seen.end(), [](const breaker_event& e) {
    return e.from == breaker_state::half_open && e.to == breaker_state::open;
  });
  CHECK(probe_flaps < reopenings);  // the probe alone misses some

  const auto events = refine_with_load(seen, w.load, fast_failure);
  check_matches_truth(events, w);
  CHECK(summarize_breaker(events, w.fault_start, w.fault_end, "probe:breaker").flaps == reopenings);
  CHECK_THAT(cross_check(seen, transitions_inferred(w.load, fast_failure)), Catch::Contains("sampled past"));
}

TEST_CASE("breaker: a state probe faster than the load", "[engine]") {
  breaker_world w;
  w.rate = 5;
  w.probe_every = 0.05;
  w.call_timeout = 0.3;
  w.cooldown = 1.0;
  w.run();
  const auto events = refine_with_load(transitions_from_probe(w.probe), w.load, fast_failure);
  check_matches_truth(events, w);
  // The probe is the finer view here; the load never widens an interval.
  for (const auto& e : events) CHECK(e.resolution() <= 0.2001);
}

TEST_CASE("breaker: inferred from the load alone, per request", "[engine]") {
  for (const bool fallback : {false, true}) {
    DYNAMIC_SECTION((fallback ? "answers from a fallback" : "answers 503 when open")) {
      breaker_world w;
      w.fallback = fallback;
      w.probe_every = 0;
      w.call_timeout = 0.08;
      w.cooldown = 0.5;
      w.run();
      const auto events = transitions_inferred(w.load, fast_failure);
      check_matches_truth(events, w);
      const auto r = summarize_breaker(events, w.fault_start, w.fault_end, "inferred");
      CHECK(r.flaps == w.half_open_reopenings());
      CHECK(*r.time_to_open == Approx(*w.first(0, 1) - w.fault_start).margin(0.011));
      CHECK(*r.time_to_close == Approx(*w.last(2, 0) - w.fault_end).margin(0.011));
    }
  }
}

TEST_CASE("breaker: a gap in the load leaves the probe's view where the load has none", "[engine]") {
  breaker_world w;
  w.probe_every = 0.2;
  w.call_timeout = 0.3;
  w.gap_from = 7;
  w.gap_to = 10;  // no requests: no trials either, the breaker stays open through the gap
  w.run();
  const auto seen = transitions_from_probe(w.probe);
  const auto events = refine_with_load(seen, w.load, fast_failure);
  check_matches_truth(events, w);
}

TEST_CASE("breaker: no load at all, the probe alone", "[engine]") {
  probes::sample_log probe;
  const auto at = [](double s) { return std::chrono::microseconds(static_cast<std::int64_t>(s * 1e6)); };
  // closed until 2.0, open (seen once at 2.2), half-open at 2.4, open at 2.6 .. 3.0, closed at 3.2 (half-open unseen).
  const std::vector<std::pair<double, double>> readings{{1.8, 0}, {2.0, 0}, {2.2, 1}, {2.4, 2}, {2.6, 1},
                                                        {2.8, 1}, {3.0, 1}, {3.2, 0}, {3.4, 0}};
  for (const auto& [t, v] : readings) probe.add(at(t), at(0.001), probes::outcome::ok, false, v);
  // A failed check has no value and changes nothing.
  probe.add(at(2.5), at(1.0), probes::outcome::timeout, false, std::nullopt);
  probe.sort();

  const auto events = transitions_from_probe(probe);
  REQUIRE(events.size() == 5);
  CHECK(events[0].from == breaker_state::closed);
  CHECK(events[0].to == breaker_state::open);
  CHECK(events[0].at == Approx(2.101));
  CHECK(events[0].resolution() == Approx(0.2));
  CHECK(events[2].from == breaker_state::half_open);
  CHECK(events[2].to == breaker_state::open);
  // Open then closed: the half-open it passed through is added in the same interval.
  CHECK(events[3].to == breaker_state::half_open);
  CHECK(events[4].to == breaker_state::closed);
  CHECK(events[3].at == events[4].at);
  CHECK(events[4].seen_by == "probe");
  CHECK(refine_with_load(events, probes::sample_log{}, fast_failure) == events);

  const auto r = summarize_breaker(events, 1.0, 3.0, "probe:breaker");
  CHECK(r.flaps == 1);
  CHECK(*r.time_to_open == Approx(1.101));
  CHECK(*r.time_to_close == Approx(0.101));
  CHECK(*r.time_to_close_resolution == Approx(0.2));
  REQUIRE(r.transitions.size() == 5);
  CHECK(r.transitions[0].resolution == Approx(0.2));
  CHECK(cross_check(events, {}) == "the load's responses showed 0 of the 5 transitions the state probe saw (a fallback "
                                  "answering for the dependency hides the breaker from the load unless "
                                  "load.fallback.header marks its answers)");
}

TEST_CASE("breaker: fast failures without slow ones first are not a breaker", "[engine]") {
  probes::sample_log load;
  const auto at = [](double s) { return std::chrono::microseconds(static_cast<std::int64_t>(s * 1e6)); };
  for (int i = 0; i < 500; ++i) {
    const double t = i * 0.02;
    const bool refused = t >= 3 && t < 6;  // a dependency refusing at once
    load.add(at(t), at(0.001), refused ? probes::outcome::http_5xx : probes::outcome::ok, false, std::nullopt);
  }
  load.sort();
  CHECK(transitions_inferred(load, fast_failure).empty());
  const auto r = summarize_breaker({}, 3, 6, "inferred");
  CHECK_FALSE(r.time_to_open);
  CHECK_FALSE(r.time_to_close);
  CHECK(r.flaps == 0);
}

TEST_CASE("breaker: slow failures then rejections open it only when the rejections last", "[engine]") {
  probes::sample_log load;
  const auto at = [](double s) { return std::chrono::microseconds(static_cast<std::int64_t>(s * 1e6)); };
  double t = 0;
  const auto add = [&](int n, double latency, probes::outcome o) {
    for (int i = 0; i < n; ++i, t += 0.01) load.add(at(t), at(latency), o, false, std::nullopt);
  };
  add(100, 0.001, probes::outcome::ok);
  add(5, 0.2, probes::outcome::timeout);          // slow failures
  add(2, 0.001, probes::outcome::http_5xx);       // two quick errors: not yet a breaker
  add(5, 0.2, probes::outcome::timeout);
  const double opened = t;
  add(50, 0.001, probes::outcome::http_5xx);      // rejected, again and again: open
  add(200, 0.001, probes::outcome::ok);           // a trial let through, and the rest: closed
  load.sort();
  const auto events = transitions_inferred(load, fast_failure);
  REQUIRE(events.size() == 3);
  CHECK(events[0].to == breaker_state::open);
  CHECK(events[0].at == Approx(opened - 0.005).margin(1e-6));
  CHECK(events[0].resolution() == Approx(0.01).margin(1e-6));
  CHECK(events[1].to == breaker_state::half_open);
  CHECK(events[2].to == breaker_state::closed);
}
