#pragma once
// Connections to one dependency for one thread: idle ones are reused, new ones are opened up to
// a limit, and callers wait in line (cancellably) when all are busy. A connection goes back to
// the pool only when its user says it is still good; anything else, a timeout or an exception
// included, closes it. Not thread-safe on purpose: every io_context thread has its own pools.
// Leases keep their pool alive, so coroutines torn down with their io_context can still return
// what they hold.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace faultline::shop {

// For a Connection's idle_and_alive(): an idle connection has nothing to read; data means
// confusion, 0 bytes that the peer closed it.
inline bool idle_socket_open(int fd) {
  char byte;
  const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// Connection needs: `awaitable<std::string> connect()` (empty = connected, else the error) and
// `bool idle_and_alive()` (false if the peer closed it while it sat in the pool).
template <typename Connection>
class connection_pool : public std::enable_shared_from_this<connection_pool<Connection>> {
public:
  using factory = std::function<std::unique_ptr<Connection>()>;

  // A connection on loan; returned on destruction if keep() was called, closed otherwise.
  class lease {
  public:
    lease() = default;
    lease(std::shared_ptr<connection_pool> pool, std::unique_ptr<Connection> c)
        : pool_(std::move(pool)), connection_(std::move(c)) {}
    lease(lease&& other) noexcept = default;
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    ~lease() {
      if (pool_ && connection_) pool_->give_back(std::move(connection_), keep_);
    }
    Connection* operator->() const { return connection_.get(); }
    explicit operator bool() const { return connection_ != nullptr; }
    void keep() { keep_ = true; }

  private:
    std::shared_ptr<connection_pool> pool_;
    std::unique_ptr<Connection> connection_;
    bool keep_ = false;
  };

  struct acquired {
    lease connection;
    std::string error;  // set when no connection could be had
  };

  // Make pools with std::make_shared: leases hold on to them.
  connection_pool(int limit, factory make) : limit_(limit), make_(std::move(make)) {}
  connection_pool(const connection_pool&) = delete;

  boost::asio::awaitable<acquired> acquire() {
    for (;;) {
      while (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        if (c->idle_and_alive()) co_return acquired{lease(this->shared_from_this(), std::move(c)), {}};
        --open_;  // the peer closed it meanwhile
      }
      if (open_ < limit_) {
        // Hold the slot in a lease at once, so a failed or cancelled connect (which may throw
        // operation_aborted) frees it.
        ++open_;
        lease l(this->shared_from_this(), make_());
        std::string error = co_await l->connect();
        if (error.empty()) co_return acquired{std::move(l), {}};
        co_return acquired{lease(), std::move(error)};
      }
      const bool woken = co_await wait_in_line();
      const boost::asio::cancellation_state state = co_await boost::asio::this_coro::cancellation_state;
      if (state.cancelled() != boost::asio::cancellation_type::none) {
        if (woken) wake_one();  // pass the free slot on to the next in line
        co_return acquired{lease(), "cancelled while waiting for a free connection"};
      }
    }
  }

private:
  struct waiter {
    boost::asio::steady_timer timer;
    bool woken = false;
  };

  // Waits until wake_one() picks this waiter (true) or the caller is cancelled (false).
  boost::asio::awaitable<bool> wait_in_line() {
    auto self = waiters_.insert(waiters_.end(),
                                waiter{boost::asio::steady_timer(co_await boost::asio::this_coro::executor,
                                                                 boost::asio::steady_timer::time_point::max())});
    struct leave_line {  // also when the wait throws (a cancelled coroutine may)
      std::list<waiter>& line;
      typename std::list<waiter>::iterator self;
      ~leave_line() { line.erase(self); }
    } leave{waiters_, self};
    co_await self->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return self->woken;
  }

  void wake_one() {
    for (auto& w : waiters_) {
      if (w.woken) continue;  // already picked, not yet running
      w.woken = true;
      w.timer.cancel();
      return;
    }
  }

  void give_back(std::unique_ptr<Connection> c, bool reusable) {
    if (reusable)
      idle_.push_back(std::move(c));
    else
      --open_;
    wake_one();
  }

  const int limit_;
  const factory make_;
  int open_ = 0;  // idle, on loan and connecting
  std::vector<std::unique_ptr<Connection>> idle_;
  std::list<waiter> waiters_;
};

}  // namespace faultline::shop
