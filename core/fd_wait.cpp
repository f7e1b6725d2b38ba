#include "core/fd_wait.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace faultline {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

void fd_waiter::reset() {
  if (descriptor_) {
    boost::system::error_code ignored;
    descriptor_->close(ignored);
  }
  descriptor_.reset();
  watched_ = -1;
}

asio::awaitable<fd_waiter::result> fd_waiter::wait(int fd, asio::posix::descriptor_base::wait_type what,
                                                   clock::time_point deadline) {
  if (fd < 0) co_return result::error;
  pollfd p{fd, static_cast<short>(what == asio::posix::descriptor_base::wait_write ? POLLOUT : POLLIN), 0};
  if (::poll(&p, 1, 0) > 0) co_return result::ready;  // includes POLLERR/POLLHUP: the owner sees why
  if (std::chrono::steady_clock::now() >= deadline) co_return result::timeout;
  if (watched_ != fd) {
    reset();
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) co_return result::error;
    descriptor_.emplace(executor_, copy);
    watched_ = fd;
  }
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  asio::steady_timer timer(executor_, deadline);
  auto done = co_await (descriptor_->async_wait(what, use_tuple) || timer.async_wait(use_tuple));
  if (done.index() == 1) co_return result::timeout;
  const auto [ec] = std::get<0>(done);
  co_return ec ? result::error : result::ready;
}

}  // namespace faultline
