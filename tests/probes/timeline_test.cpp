#include "probes/timeline.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <thread>
#include <vector>

using namespace faultline::probes;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

namespace {

const clock::time_point t0 = clock::time_point{} + 1000h;

sample at(nanoseconds intended_offset, nanoseconds latency, outcome o = outcome::ok,
          std::optional<double> value = std::nullopt, nanoseconds send_delay = 0ns) {
  sample s;
  s.intended = t0 + intended_offset;
  s.started = s.intended + send_delay;
  s.latency = latency;
  s.result = o;
  s.value = value;
  return s;
}

}  // namespace

TEST_CASE("samples land in the window of their intended start", "[probes]") {
  timeline tl(t0);
  auto load = tl.series("load");
  load.record(at(100ms, 5ms));
  load.record(at(900ms, 7ms, outcome::timeout));
  load.record(at(1500ms, 9ms, outcome::http_5xx, std::nullopt, 3ms));  // sent 3 ms late
  load.record(at(3999ms, 11ms));
  load.record(at(-5ms, 1ms));  // before the start: the first window

  const auto w = tl.windows("load");
  REQUIRE(w.size() == 4);
  CHECK(w[0].index == 0);
  CHECK(w[0].total() == 3);
  CHECK(w[0].count(outcome::ok) == 2);
  CHECK(w[0].count(outcome::timeout) == 1);
  CHECK(w[0].errors() == 1);
  CHECK(w[0].latency.max() == 7ms);
  CHECK(w[1].count(outcome::http_5xx) == 1);
  CHECK(w[1].late == 1);
  CHECK(w[2].total() == 0);  // windows without samples are kept, indexes stay contiguous
  CHECK(w[2].latency.empty());
  CHECK(w[3].total() == 1);
  CHECK(tl.window_count("load") == 4);
  CHECK(tl.window_count("nothing") == 0);
  CHECK(tl.windows("nothing").empty());
}

TEST_CASE("window width is configurable", "[probes]") {
  timeline tl(t0, {.window = 250ms});
  tl.record("p", at(260ms, 1ms));
  tl.record("p", at(510ms, 1ms));
  const auto w = tl.windows("p");
  REQUIRE(w.size() == 3);
  CHECK(w[1].total() == 1);
  CHECK(w[2].total() == 1);
  CHECK(tl.window_range(2) == time_range{500ms, 750ms});
  CHECK_THROWS_AS(timeline(t0, {.window = 0ns}), std::invalid_argument);
}

TEST_CASE("probe values keep last, min, max and mean per window", "[probes]") {
  timeline tl(t0);
  auto breaker = tl.series("breaker");
  breaker.record(at(100ms, 1ms, outcome::ok, 0.0));
  breaker.record(at(700ms, 1ms, outcome::ok, 2.0));
  breaker.record(at(400ms, 1ms, outcome::ok, 1.0));  // arrives last, but intended earlier
  breaker.record(at(500ms, 1ms, outcome::ok, std::numeric_limits<double>::quiet_NaN()));
  breaker.record(at(600ms, 1ms, outcome::protocol_error));
  const auto w = tl.windows("breaker");
  REQUIRE(w.size() == 1);
  CHECK(w[0].value.count == 3);
  CHECK(w[0].value.last == 2.0);
  CHECK(w[0].value.min == 0.0);
  CHECK(w[0].value.max == 2.0);
  CHECK(w[0].value.mean() == Approx(1.0));
  CHECK(w[0].total() == 5);
}

TEST_CASE("late samples for old windows are kept exactly", "[probes]") {
  // Record in a shuffled order (stragglers up to 20 windows late) and in order: same windows.
  std::mt19937 rng(11);
  std::vector<sample> samples;
  for (int i = 0; i < 20'000; ++i)
    samples.push_back(at(nanoseconds(i) * 1'000'000, nanoseconds(100'000 + (i % 977) * 10'000),
                         i % 13 == 0 ? outcome::reset : outcome::ok, i % 5 == 0 ? std::optional<double>(i) : std::nullopt));
  timeline ordered(t0);
  for (const auto& s : samples) ordered.record("load", s);
  // Local shuffles within blocks of 20 s reorder samples across many windows.
  for (std::size_t b = 0; b < samples.size(); b += 20'000) std::shuffle(samples.begin() + static_cast<long>(b), samples.begin() + static_cast<long>(std::min(b + 20'000, samples.size())), rng);
  timeline shuffled(t0);
  for (const auto& s : samples) shuffled.record("load", s);
  CHECK(ordered.windows("load") == shuffled.windows("load"));
  CHECK(ordered.to_json() == shuffled.to_json());
}

TEST_CASE("recording from several threads loses nothing", "[probes]") {
  timeline tl(t0);
  constexpr int threads = 4;
  constexpr int per_thread = 50'000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&tl, t] {
      auto r = tl.series(t % 2 ? "load" : "health");
      for (int i = 0; i < per_thread; ++i) r.record(at(nanoseconds(i) * 100'000, nanoseconds(1000 + i), outcome::ok));
    });
  for (auto& w : workers) w.join();
  const auto load = tl.stats("load", time_range{});
  const auto health = tl.stats("health", time_range{});
  CHECK(load.total() == 2 * per_thread);
  CHECK(health.total() == 2 * per_thread);
  CHECK(load.latency.count() == 2 * per_thread);
  CHECK(tl.series_names() == std::vector<std::string>{"health", "load"});
}

TEST_CASE("phases are marked by offset and queried", "[probes]") {
  timeline tl(t0);
  auto load = tl.series("load");
  // 10 windows: 2 ms latency, except windows 4..6 (the fault) at 300 ms with errors.
  for (int s = 0; s < 10; ++s)
    for (int i = 0; i < 10; ++i) {
      const bool fault = s >= 4 && s <= 6;
      load.record(at(nanoseconds(s) * 1'000'000'000 + nanoseconds(i) * 100'000'000, fault ? 300ms : 2ms,
                     fault && i < 3 ? outcome::timeout : outcome::ok));
    }
  CHECK_FALSE(tl.range_of(phase::fault));
  CHECK_FALSE(tl.stats("load", phase::fault));
  tl.mark(phase::baseline, 0s);
  tl.mark(phase::fault, 4s);
  tl.mark(phase::recovery, 7s);
  tl.mark(phase::after, t0 + 9s);
  tl.finish(10s);

  CHECK(tl.range_of(phase::baseline) == time_range{0s, 4s});
  CHECK(tl.range_of(phase::fault) == time_range{4s, 7s});
  CHECK(tl.range_of(phase::recovery) == time_range{7s, 9s});
  CHECK(tl.range_of(phase::after) == time_range{9s, 10s});
  CHECK(tl.phase_at(4500ms) == phase::fault);
  CHECK(tl.phase_at(10s) == std::nullopt);
  CHECK(tl.marks().size() == 4);

  const auto baseline = *tl.stats("load", phase::baseline);
  CHECK(baseline.windows == 4);
  CHECK(baseline.total() == 40);
  CHECK(baseline.error_rate() == 0.0);
  CHECK(baseline.latency.percentile(99) <= 2010us);
  const auto fault = *tl.stats("load", phase::fault);
  CHECK(fault.windows == 3);
  CHECK(fault.count(outcome::timeout) == 9);
  CHECK(fault.error_rate() == Approx(0.3));
  CHECK(fault.latency.percentile(50) >= 300ms);
  CHECK(tl.stats("load", phase::recovery)->windows == 2);

  // Time ranges take the windows whose middle lies inside.
  CHECK(tl.windows("load", {3600ms, 5600ms}).size() == 2);  // windows 4 and 5
  CHECK(tl.windows("load", {3400ms, 5600ms}).front().index == 3);
}

TEST_CASE("phases marked at the same moment give an empty range", "[probes]") {
  timeline tl(t0);
  tl.mark(phase::fault, 2s);
  tl.mark(phase::recovery, 5s);
  tl.mark(phase::after, 5s);
  CHECK(tl.range_of(phase::recovery) == time_range{5s, 5s});
  CHECK(tl.range_of(phase::after)->begin == 5s);
  CHECK(tl.range_of(phase::after)->end == nanoseconds::max());
  tl.mark(phase::fault, 3s);  // marking again moves it
  CHECK(tl.range_of(phase::fault)->begin == 3s);
}

TEST_CASE("timeline JSON round trip is lossless", "[probes]") {
  timeline tl(t0, {.window = 500ms, .late_after = 2ms});
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> d(1.0 / 4e6);
  for (int i = 0; i < 5000; ++i)
    tl.record(i % 3 ? "load" : "health",
              at(nanoseconds(i) * 2'000'000, nanoseconds(static_cast<std::int64_t>(d(rng))),
                 static_cast<outcome>(static_cast<std::size_t>(i) % outcome_count),
                 i % 4 ? std::optional<double>(i * 0.1) : std::nullopt, nanoseconds(i % 7) * 1'000'000));
  tl.series("idle");
  tl.mark(phase::baseline, 0s);
  tl.mark(phase::fault, 3s);
  tl.finish(10s);

  const auto j = tl.to_json();
  const timeline back(nlohmann::json::parse(j.dump()));
  CHECK(back.to_json() == j);
  CHECK(back.options().window == 500ms);
  CHECK(back.windows("load") == tl.windows("load"));
  CHECK(back.windows("health") == tl.windows("health"));
  CHECK(back.series_names() == tl.series_names());
  CHECK(back.marks() == tl.marks());
  CHECK(back.end() == tl.end());
  const auto a = tl.stats("load", phase::fault);
  const auto b = back.stats("load", phase::fault);
  CHECK(a->latency == b->latency);
  CHECK(a->outcomes == b->outcomes);
  CHECK(back.samples("load") == tl.samples("load"));
  CHECK(back.samples("health") == tl.samples("health"));
  CHECK(back.samples("load").size() == 3333);
  CHECK(back.samples_complete());
}

TEST_CASE("every sample is also logged one by one, in intended order", "[probes]") {
  timeline_options options;
  options.max_logged_samples = 3;
  timeline tl(t0, options);
  auto load = tl.series("load");
  auto fast = at(200ms, 5ms);
  fast.fallback = true;
  load.record(at(300ms, 900ms, outcome::timeout));  // recorded when it ends: after later ones
  load.record(fast);
  load.record(at(100ms, 1ms));
  load.record(at(400ms, 1ms));  // over the limit: counted in the windows, not logged
  const auto log = tl.samples("load");
  REQUIRE(log.size() == 3);
  CHECK(log[0].intended == 100ms);
  CHECK(log[1] == logged_sample{200ms, 5ms, outcome::ok, true, std::nullopt});
  CHECK(log[2].result == outcome::timeout);
  CHECK(tl.unlogged_samples("load") == 1);
  CHECK_FALSE(tl.samples_complete());
  CHECK(tl.windows("load")[0].total() == 4);
  CHECK(tl.samples("nothing").empty());

  // A version 1 document (no sample logs) still reads; its logs are empty and not complete.
  auto j = tl.to_json();
  j["version"] = 1;
  j.erase("max_logged_samples");
  j["series"]["load"].erase("samples");
  j["series"]["load"].erase("unlogged_samples");
  const timeline v1(j);
  CHECK(v1.windows("load") == tl.windows("load"));
  CHECK(v1.samples("load").empty());
  CHECK_FALSE(v1.samples_complete());
}

TEST_CASE("timeline JSON errors name what is wrong", "[probes]") {
  auto error_of = [](const std::string& text) {
    try {
      timeline tl(nlohmann::json::parse(text));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string head = R"("version":1,"window_ns":1000000000,"late_after_ns":1000000,"fast_failure_ns":50000000,)";
  CHECK(error_of("{" + head + R"("phases":[],"series":{}})") == "no error");
  CHECK(error_of(R"({"version":3,"window_ns":1,"late_after_ns":1})") ==
        "timeline: unsupported version 3 (this faultline reads versions 1 and 2)");
  const std::string head2 = R"("version":2,"window_ns":1000000000,"late_after_ns":1000000,"fast_failure_ns":50000000,"max_logged_samples":10,)";
  CHECK(error_of("{" + head2 + R"("series":{"load":{"window_count":0,"windows":[],"samples":{"count":1,"data":"AA=="}}}})") ==
        "timeline: series 'load': samples: 'data' ends in the middle of a number");
  CHECK(error_of("{" + head + R"("phases":[{"phase":"chaos","at_ns":0}]})") ==
        "timeline: unknown phase 'chaos' (known: baseline, fault, recovery, after)");
  CHECK(error_of("{" + head + R"("series":{"load":{"window_count":1,"windows":[{"index":0,"late":0,"fast_errors":0,"outcomes":{"oops":1},"latency":{}}]}}})") ==
        "timeline: series 'load': unknown outcome 'oops'");
  CHECK(error_of("{" + head + R"("series":{"load":{"window_count":1,"windows":[{"index":3,"late":0,"fast_errors":0,"outcomes":{},"latency":{"count":0,"min_ns":0,"max_ns":0,"sum_ns":0,"buckets":[]}}]}}})") ==
        "timeline: series 'load': window 3 is outside window_count 1");
  // Found by the journal fuzzer: a float where a count belongs was converted with undefined
  // behaviour; a whole number out of range was wrapped.
  CHECK(error_of("{" + head2.substr(0, head2.size() - 3) + R"(3.7e35,"phases":[],"series":{}})") ==
        "timeline: timeline: 'max_logged_samples' must be a whole number from 0 to 18446744073709551615, not 3.7e+35");
  CHECK(error_of(R"({"version":1,"window_ns":-1.5,"late_after_ns":1,"fast_failure_ns":1,"phases":[],"series":{}})") ==
        "timeline: timeline: 'window_ns' must be a whole number from -9223372036854775808 to 9223372036854775807, not -1.5");
  CHECK(error_of("{" + head + R"("series":{"load":{"window_count":1,"windows":[{"index":0,"late":-1,"fast_errors":0,"outcomes":{},"latency":{"count":0,"min_ns":0,"max_ns":0,"sum_ns":0,"buckets":[]}}]}}})") ==
        "timeline: series 'load': 'late' must be a whole number from 0 to 18446744073709551615, not -1");
}

TEST_CASE("errors faster than fast_failure are counted as fast failures", "[probes]") {
  timeline_options options;
  options.fast_failure = 50ms;
  timeline tl(t0, options);
  auto load = tl.series("load");
  load.record(at(100ms, 5ms));                            // ok: not a failure
  load.record(at(200ms, 3ms, outcome::http_5xx));         // a fast rejection
  load.record(at(300ms, 49ms, outcome::connect_refused)); // fast
  load.record(at(400ms, 2s, outcome::timeout));           // a slow failure
  const auto w = tl.windows("load");
  REQUIRE(w.size() == 1);
  CHECK(w[0].fast_errors == 2);
  CHECK(w[0].errors() == 3);
  timeline copy(tl.to_json());
  CHECK(copy.options().fast_failure == 50ms);
  CHECK(copy.windows("load")[0].fast_errors == 2);
  CHECK(copy.stats("load", time_range{}).fast_errors == 2);
}
