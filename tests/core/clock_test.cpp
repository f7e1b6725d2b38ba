// Sleeping on an injectable clock: a manual clock wakes sleepers only when advanced to their time,
// reports its next alarm, and a sleep can lose a race to another wait (it is cancellable).

#include "core/clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <optional>

using namespace faultline;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace asio = boost::asio;

namespace {

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

void poll(asio::io_context& io) {
  io.restart();
  io.poll();
}

}  // namespace

TEST_CASE("sleep_until on a manual clock wakes when the clock reaches the time, not before", "[core]") {
  manual_clock time;  // before the io_context: sleepers still pending when it goes unregister from it
  asio::io_context io;
  const auto start = time.now();
  std::optional<clock::time_point> woke;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await sleep_until(time, start + 3s);
    woke = time.now();
  }, rethrow);
  poll(io);
  CHECK(time.next_alarm() == start + 3s);
  time.advance(2999ms);
  poll(io);
  CHECK_FALSE(woke);
  time.advance(1ms);
  poll(io);
  CHECK(woke == start + 3s);
  CHECK_FALSE(time.next_alarm());
}

TEST_CASE("sleep_until a time that has passed returns at once", "[core]") {
  manual_clock time;
  asio::io_context io;
  time.advance(5s);
  bool woke = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await sleep_until(time, time.now() - 1s);
    co_await sleep_for(time, 0s);
    woke = true;
  }, rethrow);
  poll(io);
  CHECK(woke);
}

TEST_CASE("a sleep loses a race to another wait and its alarm goes away", "[core]") {
  manual_clock time;
  asio::io_context io;
  asio::steady_timer other(io, asio::steady_timer::time_point::max());
  std::optional<std::size_t> winner;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto result = co_await (sleep_for(time, 10s) || other.async_wait(asio::as_tuple(asio::use_awaitable)));
    winner = result.index();
  }, rethrow);
  poll(io);
  CHECK(time.next_alarm());
  other.cancel();
  poll(io);
  CHECK(winner == 1u);
  CHECK_FALSE(time.next_alarm());
  time.advance(1min);  // the cancelled sleep's alarm does not fire into a finished coroutine
  poll(io);
}

TEST_CASE("next_alarm is the earliest pending alarm", "[core]") {
  manual_clock time;
  asio::io_context io;
  const auto start = time.now();
  int woke = 0;
  for (auto d : {5s, 2s, 7s})
    asio::co_spawn(io, [&, d]() -> asio::awaitable<void> {
      co_await sleep_for(time, d);
      ++woke;
    }, rethrow);
  poll(io);
  CHECK(time.next_alarm() == start + 2s);
  time.advance(*time.next_alarm() - time.now());
  poll(io);
  CHECK(woke == 1);
  CHECK(time.next_alarm() == start + 5s);
}

TEST_CASE("sleep_for on the steady clock waits in real time", "[core]") {
  asio::io_context io;
  auto time = faultline::steady_clock();
  const auto start = time->now();
  asio::co_spawn(io, sleep_for(*time, 5ms), rethrow);
  io.run();
  CHECK(time->now() - start >= 5ms);
}
