#include "tests/support/http_test_server.hpp"

#include "tests/support/tcp_test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cctype>

namespace faultline::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct http_test_server::impl {
  std::unique_ptr<tcp_test_server> server;

  static asio::awaitable<void> session(http_test_server* self, tcp::socket socket);
};

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

asio::awaitable<void> http_test_server::impl::session(http_test_server* self, tcp::socket socket) {
  beast::flat_buffer buffer;
  asio::steady_timer timer(socket.get_executor());
  if (self->silent_) {
    // Hold the connection open without reading until the server stops.
    timer.expires_at(asio::steady_timer::time_point::max());
    co_await timer.async_wait(use_tuple);
    co_return;
  }
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(socket, buffer, req, use_tuple);
    if (ec) co_return;
    ++self->requests_;
    http_test_request r{std::string(req.method_string()), std::string(req.target()), req.body(), {}};
    for (const auto& f : req) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.headers[name] = std::string(f.value());
    }
    auto reply = self->reply_to(r);
    if (reply.hang) {
      timer.expires_at(asio::steady_timer::time_point::max());
      co_await timer.async_wait(use_tuple);
      co_return;
    }
    auto due = std::chrono::steady_clock::now() + reply.delay;
    for (;;) {
      const auto stall = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(self->stall_until_ns_.load()));
      if (stall <= due) break;
      due = stall;
    }
    while (std::chrono::steady_clock::now() < due) {
      timer.expires_at(due);
      co_await timer.async_wait(use_tuple);
      // A stall started while waiting extends the wait.
      const auto stall = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(self->stall_until_ns_.load()));
      due = std::max(due, stall);
    }
    http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
    res.set(http::field::server, "faultline-test");
    for (const auto& [k, v] : reply.headers) res.set(k, v);
    res.body() = reply.body;
    res.keep_alive(req.keep_alive() && !reply.close);
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(socket, res, use_tuple);
    if (wec || !res.keep_alive() || reply.drop) {
      beast::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

http_test_server::http_test_server() : http_test_server([](const http_test_request&) { return http_test_reply{}; }) {}

http_test_server::http_test_server(handler h) : impl_(std::make_unique<impl>()), handler_(std::move(h)) {
  tcp_test_server::options o;
  o.name = "http_test_server";
  o.backlog = 1024;
  o.admit = [this](tcp::socket&) {
    ++connections_;
    return true;
  };
  impl_->server = std::make_unique<tcp_test_server>([this](tcp::socket s) { return impl::session(this, std::move(s)); }, std::move(o));
  port_ = impl_->server->port();
}

// Stopped before the members its sessions use go.
http_test_server::~http_test_server() { impl_->server->stop(); }

std::string http_test_server::url(const std::string& target) const {
  return "http://127.0.0.1:" + std::to_string(port_) + target;
}

void http_test_server::set_handler(handler h) {
  std::lock_guard lock(handler_mutex_);
  handler_ = std::move(h);
}

void http_test_server::stall_for(std::chrono::nanoseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  stall_until_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count();
}

http_test_reply http_test_server::reply_to(const http_test_request& r) {
  std::lock_guard lock(handler_mutex_);
  return handler_(r);
}

}  // namespace faultline::test
