#include "tests/examples/shop/tcp_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <vector>

namespace faultline::test {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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

}  // namespace

asio::awaitable<void> tcp_relay::relay(tcp::socket client) {
  auto down = std::make_shared<tcp::socket>(std::move(client));
  auto up = std::make_shared<tcp::socket>(down->get_executor());
  if (auto [ec] = co_await up->async_connect(upstream_, use_tuple); ec) {
    slam(*down);
    co_return;
  }
  server_.spawn(pump(down, up, mode_));
  server_.spawn(pump(up, down, mode_));
}

tcp_relay::tcp_relay(std::uint16_t upstream_port)
    : upstream_(asio::ip::make_address("127.0.0.1"), upstream_port),
      server_([this](tcp::socket client) { return relay(std::move(client)); },
              {.name = "tcp_relay",
               .admit = [this](tcp::socket& client) {
                 if (mode_.load() != mode::reset) return true;
                 slam(client);
                 return false;
               }}) {}

}  // namespace faultline::test
