#include "tests/faults/storm/websocket_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/resource.h>

#include <cstdio>

namespace faultline::test {
namespace {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void report_failure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "websocket_server: %s\n", ex.what());
  }
}

}  // namespace

struct websocket_server::state {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::atomic<std::int64_t> upgraded{0}, held{0}, peak_held{0}, ended{0};

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(io, session(std::move(socket)), report_failure);
    }
  }

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
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  auto& a = state_->acceptor;
  a.open(tcp::v4());
  a.set_option(tcp::acceptor::reuse_address(true));
  a.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  a.listen(4096);
  port_ = a.local_endpoint().port();
  asio::co_spawn(state_->io, state_->accept_loop(), report_failure);
  thread_ = std::thread([s = state_] { s->io.run(); });
}

websocket_server::~websocket_server() {
  asio::post(state_->io, [s = state_] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
    s->io.stop();
  });
  thread_.join();
}

websocket_server::counts websocket_server::snapshot() const {
  return {state_->upgraded, state_->held, state_->peak_held, state_->ended};
}

}  // namespace faultline::test
