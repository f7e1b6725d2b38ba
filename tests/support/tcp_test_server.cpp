#include "tests/support/tcp_test_server.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>

namespace faultline::test {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// The test process holds the server's ends of every connection as well as the clients'.
void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

tcp_test_server::tcp_test_server(session s, options o) : session_(std::move(s)), options_(std::move(o)) {
  if (options_.raise_fd_limit) raise_fd_limit();
  const tcp::endpoint ep(asio::ip::address_v4::loopback(), 0);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(options_.backlog);
  port_ = acceptor_.local_endpoint().port();
  listener_ = acceptor_.native_handle();
  spawn(accept_loop());
  thread_ = std::thread([this] { io_.run(); });
}

tcp_test_server::~tcp_test_server() { stop(); }

void tcp_test_server::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void tcp_test_server::spawn(asio::awaitable<void> task) {
  asio::co_spawn(io_, std::move(task), log_stray_exception(logger("test"), options_.name));
}

asio::awaitable<void> tcp_test_server::accept_loop() {
  for (;;) {
    if (options_.before_accept) co_await options_.before_accept();
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) continue;  // EMFILE and friends: try again
    ++accepted_;
    if (options_.admit && !options_.admit(socket)) continue;
    spawn(session_(std::move(socket)));
  }
}

}  // namespace faultline::test
