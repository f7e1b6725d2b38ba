#include "faults/proxy/io_pool.hpp"

#include "faults/proxy/log.hpp"

#include <boost/asio/steady_timer.hpp>

#include <pthread.h>
#include <sys/prctl.h>
#include <signal.h>

namespace faultline::proxy {

io_pool::io_pool(std::size_t threads) {
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads + 1; ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
    // The reactor (epoll, eventfd and timerfd descriptors) is made with the first timer or
    // socket and kept; made here, a thread that has not served a connection yet holds the same
    // descriptors as one that has, so the daemon's descriptor count does not grow with its
    // first connections (the soak tests compare it before and after a run).
    boost::asio::steady_timer make_reactor(*contexts_.back());
  }
  listeners_ = contexts_.back().get();
  for (auto& c : contexts_) {
    threads_.emplace_back([ctx = c.get()] {
      // splice() to a socket whose peer is gone raises SIGPIPE; here it must only return EPIPE.
      sigset_t pipe_signal;
      sigemptyset(&pipe_signal);
      sigaddset(&pipe_signal, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
      // Timed waits of this thread end within 1 ns of their due time instead of the default
      // 50 us slack (a latency toxic's release; docs/benchmarks.md has what it measured).
      prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
      for (;;) {
        try {
          ctx->run();
          return;
        } catch (const std::exception& e) {  // a handler threw; keep serving the other connections
          proxy_log()->error("proxy thread: {}", e.what());
        }
      }
    });
  }
}

io_pool::~io_pool() {
  stop();
  // The listeners' context goes first: an accept it still holds owns a socket of a connection
  // thread's context, which must outlive it (ASan: heap-use-after-free at exit otherwise).
  while (!contexts_.empty()) contexts_.pop_back();
}

boost::asio::io_context& io_pool::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % (contexts_.size() - 1)];
}

void io_pool::stop() {
  guards_.clear();
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace faultline::proxy
