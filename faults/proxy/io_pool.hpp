#pragma once
// The proxy set's threads: one io_context per thread, handed out round robin to connections,
// and one more thread for the listeners.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace faultline::proxy {

class io_pool {
public:
  explicit io_pool(std::size_t threads);
  ~io_pool();  // stop()
  io_pool(const io_pool&) = delete;
  io_pool& operator=(const io_pool&) = delete;

  boost::asio::io_context& next();
  // Listeners accept here, and open each connection's upstream socket. Asio keeps a socket's
  // reactor state after it closes, for the next socket; made on this thread, that state sits in
  // this thread's malloc arena, not among the connections' memory in the connection threads'
  // arenas, which malloc_trim can then give back once the connections close.
  boost::asio::io_context& listeners() { return *listeners_; }
  void stop();  // stops the contexts and joins the threads; idempotent

private:
  using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  boost::asio::io_context* listeners_ = nullptr;  // the last of contexts_, not handed out by next()
  std::vector<work_guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace faultline::proxy
