#include "probes/load_generator.hpp"
#include "tests/support/http_test_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <thread>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

namespace {

load_stage open_stage(double rate, nanoseconds duration, double rate_to = -1) {
  load_stage s;
  s.rate_from = rate;
  s.rate_to = rate_to < 0 ? rate : rate_to;
  s.duration = duration;
  return s;
}

load_stage closed_stage(std::int64_t users, nanoseconds think, nanoseconds duration) {
  load_stage s;
  s.kind = load_stage::model::closed;
  s.users = users;
  s.think_time = think;
  s.duration = duration;
  return s;
}

std::shared_ptr<const http_load_config> config_for(const std::string& url, load_shape shape, std::int64_t connections = 0,
                                                   nanoseconds timeout = 2s, std::uint64_t max_requests = 0) {
  params p;
  p.set("url", url);
  p.set("timeout", timeout);
  p.set("connections", connections);
  p.set("max_requests", static_cast<std::int64_t>(max_requests));
  return std::make_shared<const http_load_config>(http_load_config::from(p, std::move(shape)));
}

// Runs a generator on `threads` io_contexts until it finishes by itself (or `stop_after`).
struct run_result {
  load_stats stats;
  series_stats all;
  nanoseconds took{};
};

run_result run(std::shared_ptr<const http_load_config> config, timeline& tl, int threads = 1,
               std::optional<nanoseconds> stop_after = std::nullopt, std::function<void(nanoseconds)> during = {}) {
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  std::vector<boost::asio::any_io_executor> executors;
  for (int i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<boost::asio::io_context>(1));
    executors.push_back(contexts.back()->get_executor());
  }
  load_generator g(executors, std::move(config), tl.series("load"));
  std::atomic<bool> done{false};
  g.on_done([&] { done = true; });
  const auto start = tl.start();
  g.start(start);
  std::vector<std::thread> workers;
  for (auto& c : contexts) workers.emplace_back([&c] { c->run(); });  // returns when all work is done
  bool stopped = false;
  while (!done) {
    std::this_thread::sleep_for(5ms);
    const auto elapsed = probes::clock::now() - start;
    if (during) during(elapsed);
    if (stop_after && !stopped && elapsed >= *stop_after) {
      g.stop();
      stopped = true;
    }
    REQUIRE(elapsed < 60s);  // a bound so a broken generator cannot hang the suite
  }
  for (auto& w : workers) w.join();
  return {g.stats(), tl.stats("load", time_range{}), probes::clock::now() - start};
}

}  // namespace

TEST_CASE("arrival times follow constant and ramping rates", "[probes]") {
  CHECK(*arrival_time(100, 100, 10, 0) == 0.0);
  CHECK(*arrival_time(100, 100, 10, 50) == Approx(0.5));
  CHECK_FALSE(arrival_time(100, 100, 10, 1001));   // beyond the stage
  CHECK(*arrival_time(100, 100, 0, 1e6) == Approx(1e4));  // holds forever
  CHECK_FALSE(arrival_time(0, 0, 0, 1));
  // Ramp 0 -> 200/s over 2 s: N(t) = 50 t^2, so 200 arrivals by 2 s and 50 by 1 s.
  CHECK(*arrival_time(0, 200, 2, 50) == Approx(1.0));
  CHECK(*arrival_time(0, 200, 2, 200) == Approx(2.0));
  CHECK_FALSE(arrival_time(0, 200, 2, 201));
  // Ramp down 200 -> 0/s over 2 s: N(t) = 200 t - 50 t^2, 200 by 2 s and 150 by 1 s.
  CHECK(*arrival_time(200, 0, 2, 150) == Approx(1.0));
  CHECK_FALSE(arrival_time(200, 0, 2, 201));
}

TEST_CASE("open model: a constant rate sends the scheduled number of requests", "[probes]") {
  test::http_test_server server;
  timeline tl(probes::clock::now() + 50ms);
  const auto r = run(config_for(server.url("/"), {open_stage(200, 1s)}), tl);
  CHECK(r.stats.requests_scheduled_total == 200);
  CHECK(r.all.total() == 200);
  CHECK(r.all.count(outcome::ok) == 200);
  CHECK(server.requests() == 200);
  CHECK(r.stats.requests_in_flight == 0);
  CHECK(r.stats.connections_open == 0);
  CHECK(r.took < 5s);
  CHECK(tl.window_count("load") == 1);  // all intended within the first second
}

TEST_CASE("open model: ramps and several workers keep the schedule", "[probes]") {
  test::http_test_server server;
  timeline tl(probes::clock::now() + 50ms, {.window = 500ms});
  // 0 -> 400/s over 1 s (200 requests), then 400/s for 0.5 s (200 more), on two threads.
  const auto r = run(config_for(server.url("/"), {open_stage(0, 1s, 400), open_stage(400, 500ms)}), tl, 2);
  CHECK(r.all.total() == 400);
  CHECK(r.all.count(outcome::ok) == 400);
  const auto w = tl.windows("load");
  REQUIRE(w.size() == 3);
  CHECK(w[0].total() == 50);   // N(0.5) = 200 * 0.25
  CHECK(w[1].total() == 150);
  CHECK(w[2].total() == 200);
}

TEST_CASE("open model: latency counts from the intended send time (no coordinated omission)", "[probes]") {
  // A server that stalls for 1 s once during a 10 s run at 100/s: every request meant to be
  // sent during the stall waits for its end, so about 50 see >= 500 ms and about 100 see >= 100 ms.
  test::http_test_server server;
  timeline tl(probes::clock::now() + 50ms);
  bool stalled = false;
  const auto r = run(config_for(server.url("/"), {open_stage(100, 10s)}), tl, 1, std::nullopt, [&](nanoseconds elapsed) {
    if (!stalled && elapsed >= 4s) {
      server.stall_for(1s);
      stalled = true;
    }
  });
  CHECK(r.all.total() == 1000);
  CHECK(r.all.count(outcome::ok) == 1000);
  const auto slow = r.all.latency.count_at_or_above(500ms);
  const auto affected = r.all.latency.count_at_or_above(100ms);
  INFO("requests >= 500 ms: " << slow << ", >= 100 ms: " << affected);
  CHECK(slow >= 40);
  CHECK(slow <= 70);
  CHECK(affected >= 80);
  CHECK(r.all.latency.percentile(99) >= 500ms);
  CHECK(r.all.latency.max() >= 900ms);
  // The stall shows in the window where it happened (by intended time).
  const auto w = tl.windows("load");
  CHECK(w[4].latency.percentile(50) >= 300ms);
  CHECK(w[1].latency.percentile(99) < 500ms);
}

TEST_CASE("open model: with a fixed small pool, queued requests still count from their intended time", "[probes]") {
  test::http_test_server server;
  timeline tl(probes::clock::now() + 50ms);
  bool stalled = false;
  const auto r = run(config_for(server.url("/"), {open_stage(100, 4s)}, 2), tl, 1, std::nullopt, [&](nanoseconds elapsed) {
    if (!stalled && elapsed >= 1500ms) {
      server.stall_for(1s);
      stalled = true;
    }
  });
  CHECK(r.all.total() == 400);
  CHECK(server.connections() <= 2);
  CHECK(r.all.latency.count_at_or_above(500ms) >= 40);
  CHECK(r.stats.requests_late_total >= 80);  // they waited for a connection
}

TEST_CASE("open model: arrivals within one tick are all sent, each timed from its own intended time", "[probes]") {
  // A 100 ms tick at 200/s: about 20 arrivals become due between two wake-ups and go out together.
  // Counts and orderings only, which a busy machine does not change: it can only delay a wake-up,
  // and a later wake-up makes the delays (and so the latencies) longer, never shorter.
  test::http_test_server server;
  timeline tl(probes::clock::now() + 50ms);
  auto config = std::make_shared<http_load_config>(*config_for(server.url("/"), {open_stage(200, 1s)}));
  config->tick = 100ms;
  const auto r = run(config, tl);
  CHECK(r.stats.requests_scheduled_total == 200);
  CHECK(r.all.count(outcome::ok) == 200);
  CHECK(server.requests() == 200);
  auto log = tl.samples("load");
  log.sort();
  const auto samples = log.all();
  REQUIRE(samples.size() == 200);
  // Each keeps its own intended time (one every 5 ms; the log keeps microseconds)...
  std::size_t off_schedule = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto expected = std::chrono::microseconds(5000 * static_cast<std::int64_t>(i));
    if (samples[i].intended < expected - 2us || samples[i].intended > expected + 2us) ++off_schedule;
  }
  CHECK(off_schedule == 0);
  // ...and its latency counts from it: the first half of each tick's arrivals waited >= 50 ms for
  // the wake-up (sent one by one, as without the tick, a local server answers them in well under
  // that), and within a batch sent together the earlier arrival has the longer latency, by its
  // 5 ms head start (a common send time, completions close together).
  std::size_t waited = 0, head_start = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].latency >= 50ms) ++waited;
    if (i + 1 < samples.size()) {
      const auto d = samples[i].latency - samples[i + 1].latency;
      if (d >= 2ms && d <= 8ms) ++head_start;
    }
  }
  INFO("waited >= 50 ms: " << waited << ", pairs 2-8 ms apart in latency: " << head_start);
  CHECK(waited >= 80);        // about 100 expected
  CHECK(head_start >= 100);   // about 190 expected
}

TEST_CASE("closed model: a naive loop hides the stall that the open model shows", "[probes]") {
  test::http_test_server server;
  timeline tl(probes::clock::now() + 50ms);
  bool stalled = false;
  const auto r = run(config_for(server.url("/"), {closed_stage(1, 10ms, 3s)}), tl, 1, std::nullopt, [&](nanoseconds elapsed) {
    if (!stalled && elapsed >= 1s) {
      server.stall_for(1s);
      stalled = true;
    }
  });
  // One user, one request at a time: the stall is one slow sample.
  CHECK(r.all.latency.count_at_or_above(500ms) <= 2);
  CHECK(r.all.total() >= 20);
}

TEST_CASE("closed model: users with think time", "[probes]") {
  test::http_test_server server;
  timeline tl(probes::clock::now() + 50ms);
  const auto r = run(config_for(server.url("/"), {closed_stage(5, 100ms, 1s)}), tl, 2);
  // Each user: a request about every 100 ms for 1 s.
  CHECK(r.all.total() >= 30);
  CHECK(r.all.total() <= 55);
  CHECK(r.all.count(outcome::ok) == r.all.total());
  CHECK(server.connections() == 5);
}

TEST_CASE("the generator is bounded: max_requests, stop() and timeouts", "[probes]") {
  SECTION("max_requests ends an endless shape") {
    test::http_test_server server;
    timeline tl(probes::clock::now() + 50ms);
    const auto r = run(config_for(server.url("/"), {open_stage(1000, 0s)}, 0, 2s, 50), tl, 2);
    CHECK(r.all.total() == 50);
    CHECK(server.requests() == 50);
  }
  SECTION("stop() ends an endless shape") {
    test::http_test_server server;
    timeline tl(probes::clock::now() + 50ms);
    const auto r = run(config_for(server.url("/"), {open_stage(100, 0s)}), tl, 1, 300ms);
    CHECK(r.all.total() >= 20);
    CHECK(r.all.total() <= 45);
    CHECK(r.took < 3s);
  }
  SECTION("a server that never answers: timeouts, and the run still ends") {
    test::http_test_reply hang;
    hang.hang = true;
    test::http_test_server server([hang](const test::http_test_request&) { return hang; });
    timeline tl(probes::clock::now() + 50ms);
    const auto r = run(config_for(server.url("/"), {open_stage(50, 1s)}, 0, 300ms), tl);
    CHECK(r.all.total() == 50);
    CHECK(r.all.count(outcome::timeout) == 50);
    CHECK(r.all.latency.min() >= 300ms);
    CHECK(r.took < 5s);
  }
}

TEST_CASE("error classes: 5xx and refused connections", "[probes]") {
  SECTION("5xx") {
    test::http_test_server server([](const test::http_test_request&) { return test::http_test_reply{503, "busy"}; });
    timeline tl(probes::clock::now() + 50ms);
    const auto r = run(config_for(server.url("/"), {open_stage(100, 300ms)}), tl);
    CHECK(r.all.count(outcome::http_5xx) == 30);
  }
  SECTION("refused") {
    std::uint16_t port;
    {
      test::http_test_server gone;
      port = gone.port();
    }
    timeline tl(probes::clock::now() + 50ms);
    const auto r = run(config_for("http://127.0.0.1:" + std::to_string(port) + "/", {open_stage(100, 300ms)}), tl);
    CHECK(r.all.count(outcome::connect_refused) == 30);
  }
}

TEST_CASE("load config errors name the parameter", "[probes]") {
  params p;
  p.set("url", std::string("ftp://x/"));
  CHECK_THROWS_AS(http_load_config::from(p, {open_stage(1, 1s)}), param_error);
  p.set("url", std::string("http://127.0.0.1:1/"));
  CHECK_THROWS_AS(http_load_config::from(p, {}), param_error);
}

TEST_CASE("fallback.header marks the answers a fallback served, and they stay ok", "[probes]") {
  std::atomic<int> n{0};
  test::http_test_server server([&n](const test::http_test_request&) {
    test::http_test_reply reply;
    const int i = n++;
    if (i % 2 == 0) reply.headers["X-Cache"] = "stale";
    if (i % 4 == 1) reply.headers["x-cache"] = "hit";  // the header, but another value
    return reply;
  });
  timeline tl(probes::clock::now() + 50ms);
  params p;
  p.set("url", server.url("/"));
  p.set("fallback.header", std::string("x-cache: stale"));
  const auto config = std::make_shared<const http_load_config>(http_load_config::from(p, {open_stage(100, 400ms)}));
  REQUIRE(config->fallback);
  CHECK(config->fallback->name == "x-cache");
  const auto r = run(config, tl);
  CHECK(r.all.count(outcome::ok) == 40);
  const auto log = tl.samples("load");
  REQUIRE(log.size() == 40);
  std::size_t marked = 0;
  for (const auto& s : log.all()) marked += s.fallback ? 1 : 0;
  CHECK(marked == 20);

  params bad;
  bad.set("url", server.url("/"));
  bad.set("fallback.header", std::string(": stale"));
  CHECK_THROWS_WITH(http_load_config::from(bad, {open_stage(1, 1s)}),
                    Catch::Contains("expected a header as 'Name: value' or 'Name' (e.g. 'X-Cache: stale')"));
}
