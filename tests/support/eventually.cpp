#include "tests/support/eventually.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <thread>

namespace faultline::test {

std::optional<bool> poll_until::check(const std::function<bool()>& condition) const {
  const bool late = std::chrono::steady_clock::now() >= deadline_;
  if (condition()) return true;
  if (late) return false;
  return std::nullopt;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const poll_until poll(limit);
  for (;;) {
    if (auto done = poll.check(condition)) return *done;
    std::this_thread::sleep_for(eventually_poll);
  }
}

boost::asio::awaitable<bool> eventually_async(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const poll_until poll(limit);
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    if (auto done = poll.check(condition)) co_return *done;
    timer.expires_after(eventually_poll);
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

}  // namespace faultline::test
