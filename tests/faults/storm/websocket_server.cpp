#include "tests/faults/storm/websocket_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace faultline::test {
namespace {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct websocket_server::state {
  std::atomic<std::int64_t> upgraded{0}, held{0}, peak_held{0}, ended{0};

  asio::awaitable<void> session(tcp::socket socket) {
    websocket::stream<tcp::socket> ws(std::move(socket));
    auto [ec] = co_await ws.async_accept(use_tuple);
    if (ec) co_return;
    ++upgraded;
    const auto now = ++held;
    for (auto peak = peak_held.load(); now > peak && !peak_held.compare_exchange_weak(peak, now);) {
    }
    boost::beast::flat_buffer buffer;
    for (;;) {
      auto [rec, n] = co_await ws.async_read(buffer, use_tuple);
      if (rec) break;
      buffer.clear();
    }
    --held;
    ++ended;
  }
};

websocket_server::websocket_server() : state_(std::make_shared<state>()) {
  tcp_test_server::options o;
  o.name = "websocket_server";
  o.raise_fd_limit = true;
  server_ = std::make_unique<tcp_test_server>([s = state_.get()](tcp::socket socket) { return s->session(std::move(socket)); },
                                              std::move(o));
}

websocket_server::~websocket_server() = default;

websocket_server::counts websocket_server::snapshot() const {
  return {state_->upgraded, state_->held, state_->peak_held, state_->ended};
}

}  // namespace faultline::test
