#include "tests/support/websocket_test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/resource.h>
#include <sys/socket.h>

#include <cstdio>
#include <deque>
#include <set>

namespace faultline::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void report_failure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "websocket_test_server: %s\n", ex.what());
  }
}

void raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// One upgraded session: the stream and the replies waiting for their time.
struct session {
  explicit session(tcp::socket socket) : ws(std::move(socket)), wake(ws.get_executor()) {}
  websocket::stream<tcp::socket> ws;
  asio::steady_timer wake;  // the writer waits on it for a reply (or the end)
  std::deque<std::pair<clock::time_point, std::string>> replies;
  bool done = false;
};

}  // namespace

struct websocket_test_server::state {
  explicit state(options o) : opts(o) {}
  const options opts;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::set<std::shared_ptr<session>> sessions;  // on the io thread only
  std::set<std::shared_ptr<tcp::socket>> silent;
  std::atomic<std::int64_t> upgraded{0}, held{0}, peak_held{0}, ended{0}, refused{0}, messages{0};
  std::atomic<std::int64_t> stall_until_ns{0};

  clock::time_point stall_until() const { return clock::time_point(std::chrono::nanoseconds(stall_until_ns.load())); }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(io, handle(std::move(socket)), report_failure);
    }
  }

  asio::awaitable<void> handle(tcp::socket socket) {
    boost::system::error_code ignored;
    if (opts.mode == accept_mode::reset) {
      socket.set_option(asio::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
      co_return;
    }
    if (opts.mode == accept_mode::silent) {
      silent.insert(std::make_shared<tcp::socket>(std::move(socket)));  // closed when the server stops
      co_return;
    }
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [rec, n] = co_await http::async_read(socket, buffer, request, use_tuple);
    if (rec) co_return;
    if (held.load() >= opts.limit || !websocket::is_upgrade(request)) {
      ++refused;
      http::response<http::empty_body> answer{static_cast<http::status>(opts.refuse_status), request.version()};
      answer.set(http::field::connection, "close");
      answer.prepare_payload();
      co_await http::async_write(socket, answer, use_tuple);
      socket.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    const auto now = ++held;
    for (auto peak = peak_held.load(); now > peak && !peak_held.compare_exchange_weak(peak, now);) {
    }
    auto s = std::make_shared<session>(std::move(socket));
    sessions.insert(s);
    auto [aec] = co_await s->ws.async_accept(request, use_tuple);
    if (!aec) {
      ++upgraded;
      asio::co_spawn(io, write_replies(s), report_failure);
      co_await read_messages(*s);
    }
    s->done = true;
    s->wake.cancel();
    sessions.erase(s);
    --held;
    ++ended;
  }

  asio::awaitable<void> read_messages(session& s) {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await s.ws.async_read(buffer, use_tuple);
      if (ec) co_return;
      ++messages;
      if (opts.echo) {
        s.replies.emplace_back(clock::now() + opts.reply_delay, beast::buffers_to_string(buffer.data()));
        s.wake.cancel();
      }
      buffer.consume(buffer.size());
    }
  }

  // One writer per session: replies leave in order, each at its due time or after a stall.
  asio::awaitable<void> write_replies(std::shared_ptr<session> s) {
    while (!s->done) {
      if (s->replies.empty()) {
        s->wake.expires_at(clock::time_point::max());
        co_await s->wake.async_wait(use_tuple);
        continue;
      }
      const auto due = std::max(s->replies.front().first, stall_until());
      if (clock::now() < due) {
        s->wake.expires_at(due);
        co_await s->wake.async_wait(use_tuple);
        continue;  // a stall may have begun meanwhile
      }
      const std::string text = std::move(s->replies.front().second);
      s->replies.pop_front();
      s->ws.text(true);
      auto [ec, n] = co_await s->ws.async_write(asio::buffer(text), use_tuple);
      if (ec) co_return;
    }
  }

  void drop(bool reset) {
    for (const auto& s : sessions) {
      boost::system::error_code ignored;
      auto& socket = s->ws.next_layer();
      if (reset) socket.set_option(asio::socket_base::linger(true, 0), ignored);
      else socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    }
  }
};

websocket_test_server::websocket_test_server(options o) : state_(std::make_shared<state>(o)) {
  raise_open_files_limit();
  auto& a = state_->acceptor;
  a.open(tcp::v4());
  a.set_option(tcp::acceptor::reuse_address(true));
  if (o.reuse_port) {
    const int one = 1;
    ::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  }
  a.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port));
  a.listen(4096);
  port_ = a.local_endpoint().port();
  asio::co_spawn(state_->io, state_->accept_loop(), report_failure);
  thread_ = std::thread([s = state_] { s->io.run(); });
}

websocket_test_server::websocket_test_server() : websocket_test_server(options{}) {}

websocket_test_server::~websocket_test_server() {
  asio::post(state_->io, [s = state_] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
    s->io.stop();
  });
  thread_.join();
}

websocket_test_server::counts websocket_test_server::snapshot() const {
  const auto& s = *state_;
  return {s.upgraded, s.held, s.peak_held, s.ended, s.refused, s.messages};
}

void websocket_test_server::stall_for(std::chrono::nanoseconds d) {
  state_->stall_until_ns = (clock::now() + d).time_since_epoch().count();
}

void websocket_test_server::drop_sessions(bool reset) {
  asio::post(state_->io, [s = state_, reset] { s->drop(reset); });
}

}  // namespace faultline::test
