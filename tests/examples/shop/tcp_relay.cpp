#include "tests/examples/shop/tcp_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <vector>

namespace faultline::test {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "tcp_relay: a session ended by exception: %s\n", x.what());
  }
}

void slam(tcp::socket& s) {
  boost::system::error_code ignored;
  s.set_option(tcp::socket::linger(true, 0), ignored);  // RST, as a crashed or firewalled peer
  s.close(ignored);
}

asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to,
                           const std::atomic<tcp_relay::mode>& mode) {
  std::vector<char> buffer(16384);
  for (;;) {
    auto [ec, n] = co_await from->async_read_some(asio::buffer(buffer), use_tuple);
    if (ec) break;
    while (mode.load() == tcp_relay::mode::stall) {
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
      co_await pause.async_wait(use_tuple);
    }
    if (mode.load() == tcp_relay::mode::reset) break;
    if (auto [wec, written] = co_await asio::async_write(*to, asio::buffer(buffer.data(), n), use_tuple); wec) break;
  }
  slam(*from);
  slam(*to);
}

asio::awaitable<void> relay(tcp::socket client, tcp::endpoint upstream, const std::atomic<tcp_relay::mode>& mode) {
  auto down = std::make_shared<tcp::socket>(std::move(client));
  auto up = std::make_shared<tcp::socket>(down->get_executor());
  if (auto [ec] = co_await up->async_connect(upstream, use_tuple); ec) {
    slam(*down);
    co_return;
  }
  asio::co_spawn(down->get_executor(), pump(down, up, mode), report);
  asio::co_spawn(down->get_executor(), pump(up, down, mode), report);
}

asio::awaitable<void> accept(tcp::acceptor& acceptor, tcp::endpoint upstream, const std::atomic<tcp_relay::mode>& mode) {
  for (;;) {
    auto [ec, client] = co_await acceptor.async_accept(use_tuple);
    if (ec) co_return;
    if (mode.load() == tcp_relay::mode::reset) {
      slam(client);
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), relay(std::move(client), upstream, mode), report);
  }
}

}  // namespace

tcp_relay::tcp_relay(std::uint16_t upstream_port)
    : acceptor_(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      upstream_(asio::ip::make_address("127.0.0.1"), upstream_port),
      port_(acceptor_.local_endpoint().port()) {
  asio::co_spawn(context_, accept(acceptor_, upstream_, mode_), report);
  thread_ = std::thread([this] { context_.run(); });
}

tcp_relay::~tcp_relay() {
  context_.stop();
  thread_.join();
}

}  // namespace faultline::test
