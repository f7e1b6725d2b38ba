#include "probes/probe_runner.hpp"

#include "tests/support/eventually.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <thread>

using namespace faultline::probes;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Takes `duration` per check (a timer: cancellable like any real probe's I/O).
class timed_probe : public probe {
public:
  timed_probe(asio::any_io_executor ex, std::chrono::nanoseconds duration) : ex_(std::move(ex)), duration_(duration) {}
  asio::awaitable<sample> check(clock::time_point intended) override {
    const auto started = clock::now();
    ++calls;
    asio::steady_timer t(ex_, duration_);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return finished(intended, started, outcome::ok, 1.0);
  }
  int calls = 0;

private:
  asio::any_io_executor ex_;
  std::chrono::nanoseconds duration_;
};

}  // namespace

TEST_CASE("probe runner checks on schedule and records into the timeline", "[probes]") {
  asio::io_context io;
  const auto start = clock::now();
  timeline tl(start);
  auto owned = std::make_unique<timed_probe>(io.get_executor(), 1ms);
  auto* p = owned.get();
  probe_runner runner(io.get_executor(), std::move(owned), 100ms, 1s, tl.series("health"));
  runner.start(start);
  io.run_for(1050ms);
  runner.stop();
  io.run_for(200ms);
  CHECK(runner.done());
  const auto stats = tl.stats("health", time_range{});
  // 11 slots at 0, 100, ..., 1000 ms; a busy machine may delay the last.
  CHECK(stats.total() >= 9);
  CHECK(stats.total() <= 11);
  CHECK(stats.count(outcome::ok) == stats.total());
  CHECK(static_cast<int>(stats.total()) == p->calls);
  CHECK(stats.value.last == 1.0);
  CHECK(runner.stats().checks_total == stats.total());
}

TEST_CASE("probe runner abandons a check that outlives its timeout", "[probes]") {
  asio::io_context io;
  const auto start = clock::now();
  timeline tl(start);
  probe_runner runner(io.get_executor(), std::make_unique<timed_probe>(io.get_executor(), 1h), 200ms, 100ms, tl.series("stuck"));
  runner.start(start);
  io.run_for(100ms + probe_runner::grace + 300ms);
  runner.stop();
  io.run_for(200ms);
  CHECK(runner.done());
  const auto w = tl.stats("stuck", time_range{});
  REQUIRE(w.total() >= 1);
  CHECK(w.count(outcome::timeout) == w.total());
  CHECK(w.latency.min() >= 600ms);
  CHECK(runner.stats().checks_abandoned_total == w.total());
  // The slots covered by the overrun were skipped, not queued.
  CHECK(runner.stats().checks_skipped_total >= 1);
}

TEST_CASE("probe runner stop cancels a check in progress at once", "[probes]") {
  asio::io_context io;
  timeline tl(clock::now());
  probe_runner runner(io.get_executor(), std::make_unique<timed_probe>(io.get_executor(), 1h), 1s, 1h, tl.series("slow"));
  runner.start();
  io.run_for(100ms);
  const auto before = clock::now();
  runner.stop();
  while (!runner.done() && clock::now() - before < 2s) io.run_for(10ms);
  CHECK(runner.done());
  CHECK(tl.stats("slow", time_range{}).total() == 0);  // cut short by us: not a sample
}

TEST_CASE("probe runner stops from another thread", "[probes]") {
  asio::io_context io;
  timeline tl(clock::now());
  probe_runner runner(io.get_executor(), std::make_unique<timed_probe>(io.get_executor(), 1ms), 20ms, 1s, tl.series("x"));
  runner.start();
  std::thread worker([&] { io.run(); });
  faultline::test::eventually([&] { return tl.stats("x", time_range{}).total() >= 2; });
  runner.stop();
  worker.join();  // run() returns once the runner's coroutine is gone
  CHECK(runner.done());
  CHECK(tl.stats("x", time_range{}).total() >= 2);
}
