#pragma once
// Waiting, before a deadline, for a file descriptor that another library owns (libpq's socket,
// a child's pidfd or pipe) to become readable or writable, without blocking the io_context.

#include "core/clock.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <optional>

namespace faultline {

class fd_waiter {
public:
  enum class result { ready, timeout, error };

  explicit fd_waiter(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // Waits on `fd` (not owned: a duplicate is registered) for `what`. Checks readiness first, so
  // an edge that happened before the wait is not missed.
  boost::asio::awaitable<result> wait(int fd, boost::asio::posix::descriptor_base::wait_type what,
                                      clock::time_point deadline);
  void reset();  // forget the registered descriptor (the owner closed or replaced it)

private:
  boost::asio::any_io_executor executor_;
  std::optional<boost::asio::posix::stream_descriptor> descriptor_;
  int watched_ = -1;
};

}  // namespace faultline
