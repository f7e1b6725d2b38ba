#include "faults/proxy/api_server.hpp"

#include "core/limits.hpp"
#include "faults/proxy/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

#include <array>

namespace faultline::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

api_server::api_server(asio::io_context& ioc, const tcp::endpoint& endpoint, control_api& api) : ioc_(ioc), acceptor_(ioc), api_(api) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
}

void api_server::start() { asio::co_spawn(ioc_, accept_loop(this), log_stray_exception(proxy_log(), "control API listener")); }

void api_server::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> api_server::accept_loop(api_server* self) {
  for (;;) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
    if (ec) {
      proxy_log()->warn("control API: accept failed: {}", ec.message());
      continue;
    }
    asio::co_spawn(self->ioc_, serve(self, std::move(socket)), log_stray_exception(proxy_log(), "control API session"));
  }
}

namespace {

// 413 in Toxiproxy's error shape, then the rest of the body is read and dropped (until the client
// ends or 30 s pass): closing with unread bytes would reset the connection before the client reads
// the answer.
asio::awaitable<void> refuse_large_body(beast::tcp_stream& stream, const std::string& target) {
  proxy_log()->warn("control API: request to {} has a body over {} bytes; answered 413", target, limits::api_body_bytes);
  auto result = error_response({413, fmt::format("request body too large: the control API accepts at most {} bytes", limits::api_body_bytes)});
  http::response<http::string_body> res{http::status::payload_too_large, 11};
  res.set(http::field::content_type, result.content_type);
  res.body() = std::move(result.body);
  res.keep_alive(false);
  res.prepare_payload();
  auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  if (wec) co_return;
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(30));
  std::array<char, 64 * 1024> sink;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
  }
}

}  // namespace

api_request to_api_request(const http::request<http::string_body>& req) {
  return {std::string(req.method_string()), std::string(req.target()), req.body(), std::string(req[http::field::user_agent]),
          std::string(req[http::field::authorization])};
}

http::response<http::string_body> to_http_response(api_response result, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(result.status), version};
  if (!result.content_type.empty()) res.set(http::field::content_type, result.content_type);
  for (const auto& [k, v] : result.headers) res.set(k, v);
  res.body() = std::move(result.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

asio::awaitable<void> api_server::serve(api_server* self, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    stream.expires_after(std::chrono::seconds(30));
    http::request_parser<http::string_body> parser;
    parser.body_limit(limits::api_body_bytes);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec == http::error::end_of_stream) break;
    if (ec == http::error::body_limit) {
      co_await refuse_large_body(stream, std::string(parser.get().target()));
      co_return;
    }
    if (ec) {
      if (ec != asio::error::operation_aborted && ec != beast::error::timeout && ec != asio::error::connection_reset)
        proxy_log()->debug("control API: bad request: {}", ec.message());
      co_return;
    }
    auto req = parser.release();
    auto request = to_api_request(req);
    auto result = self->api_.handle(request);
    proxy_log()->info("{} {} -> {}", request.method, request.target, result.status);
    auto res = to_http_response(std::move(result), req.version(), req.keep_alive());
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace faultline::proxy
