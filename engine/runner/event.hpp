#pragma once
// A one-shot flag that coroutines on one executor can wait for: set once, wakes every waiter.
// Used for "abort", "this step ended" and "the operator ended the manual faults".

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace faultline::engine {

class event {
public:
  explicit event(boost::asio::any_io_executor executor)
      : timer_(executor, boost::asio::steady_timer::time_point::max()) {}

  void set() {
    if (set_) return;
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }

  boost::asio::awaitable<void> wait() {
    while (!set_) co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

private:
  boost::asio::steady_timer timer_;
  bool set_ = false;
};

}  // namespace faultline::engine
