#pragma once
// Runs an operation against a timeout: when the timer wins, the operation is cancelled (the
// async wait it is in completes with operation_aborted) and waited for, so whatever it holds is
// cleaned up before this returns. The operation must report errors in its result, not throw:
// `||` waits for the first operation that completes without an exception.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <utility>
#include <variant>

namespace faultline::shop {

template <typename T>
boost::asio::awaitable<std::optional<T>> with_timeout(boost::asio::awaitable<T> operation,
                                                      std::chrono::steady_clock::duration timeout) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, timeout);
  auto first = co_await (std::move(operation) ||
                         timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (first.index() == 0) co_return std::move(std::get<0>(first));
  co_return std::nullopt;
}

// Sleeps; a cancelled sleep just ends early.
inline boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
  co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

}  // namespace faultline::shop
