#pragma once
// A wake-up signal for one coroutine on one executor: notify() before or during wait() both
// wake it. The data path uses it between readers, links and writers of one connection.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace faultline::proxy {

class async_event {
public:
  explicit async_event(boost::asio::any_io_executor executor)
      : timer_(std::move(executor), boost::asio::steady_timer::time_point::max()) {}

  // Waits until notify() was called since the last wait returned.
  boost::asio::awaitable<void> wait() {
    if (!signalled_) {
      timer_.expires_at(boost::asio::steady_timer::time_point::max());
      // operation_aborted is the wake-up; there is no other outcome to check.
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    signalled_ = false;
  }

  void notify() {
    signalled_ = true;
    timer_.cancel();
  }

private:
  boost::asio::steady_timer timer_;
  bool signalled_ = false;
};

}  // namespace faultline::proxy
