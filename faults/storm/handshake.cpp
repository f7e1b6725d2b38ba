#include "faults/storm/handshake.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/error.hpp>

#include <array>
#include <cstring>

namespace faultline::storm {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Longest reply line or message we read before calling the answer a protocol error.
constexpr std::size_t max_reply = 64 * 1024;

std::uint32_t read_be32(std::string_view bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return v;
}

void append_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// The SQLSTATE ('C' field) of an ErrorResponse body: fields of a type byte and a C string.
std::string_view sqlstate_of(std::string_view body) {
  std::size_t i = 0;
  while (i < body.size() && body[i] != '\0') {
    const char field = body[i++];
    const auto end = body.find('\0', i);
    if (end == std::string_view::npos) break;
    if (field == 'C') return body.substr(i, end - i);
    i = end + 1;
  }
  return {};
}

}  // namespace

connection_outcome outcome_of_redis_reply(std::string_view line) {
  if (line == "+PONG") return connection_outcome::established;
  if (line.starts_with("-ERR max number of clients reached")) return connection_outcome::refused;
  return connection_outcome::handshake_failed;
}

std::optional<connection_outcome> outcome_of_postgres_message(char type, std::string_view body) {
  switch (type) {
    case 'R':  // AuthenticationRequest: Ok (0) means more messages follow; others wait for credentials
      if (body.size() < 4) return connection_outcome::handshake_failed;
      if (read_be32(body) == 0) return std::nullopt;
      return connection_outcome::established;
    case 'Z':  // ReadyForQuery (trust authentication)
      return connection_outcome::established;
    case 'E':
      return sqlstate_of(body) == "53300" ? connection_outcome::refused : connection_outcome::handshake_failed;
    case 'S':  // ParameterStatus
    case 'K':  // BackendKeyData
    case 'N':  // NoticeResponse
    case 'v':  // NegotiateProtocolVersion
      return std::nullopt;
    default:
      return connection_outcome::handshake_failed;
  }
}

std::string postgres_startup_message(const std::string& user, const std::string& database) {
  std::string body;
  append_be32(body, 196608);  // protocol 3.0
  const auto pair = [&](std::string_view k, std::string_view v) {
    body.append(k);
    body.push_back('\0');
    body.append(v);
    body.push_back('\0');
  };
  pair("user", user);
  pair("database", database.empty() ? user : database);
  pair("application_name", "faultline-storm");
  body.push_back('\0');
  std::string out;
  append_be32(out, static_cast<std::uint32_t>(body.size() + 4));
  return out + body;
}

awaitable<connection_outcome> http_handshake(tcp_socket& socket, const storm_config& config) {
  http::request<http::empty_body> req{http::verb::get, config.path, 11};
  req.set(http::field::host, config.target());
  req.set(http::field::user_agent, "faultline-storm");
  auto [wec, written] = co_await http::async_write(socket, req, use_tuple);
  if (wec) co_return outcome_of(wec);
  beast::flat_buffer buffer(max_reply);
  http::response_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(max_reply));
  auto [rec, read] = co_await http::async_read_header(socket, buffer, parser, use_tuple);
  if (rec) co_return outcome_of(rec);
  co_return outcome_of_http_status(parser.get().result_int());
}

awaitable<connection_outcome> postgres_handshake(tcp_socket& socket, const storm_config& config) {
  const auto startup = postgres_startup_message(config.user, config.database);
  auto [wec, written] = co_await asio::async_write(socket, asio::buffer(startup), use_tuple);
  if (wec) co_return outcome_of(wec);
  std::array<char, 5> header{};
  std::string body;
  for (int messages = 0; messages < 64; ++messages) {
    auto [hec, hn] = co_await asio::async_read(socket, asio::buffer(header), use_tuple);
    if (hec) co_return outcome_of(hec);
    const auto length = read_be32(std::string_view(header.data() + 1, 4));
    if (length < 4 || length > max_reply) co_return connection_outcome::handshake_failed;
    body.resize(length - 4);
    auto [bec, bn] = co_await asio::async_read(socket, asio::buffer(body), use_tuple);
    if (bec) co_return outcome_of(bec);
    if (auto o = outcome_of_postgres_message(header[0], body)) co_return *o;
  }
  co_return connection_outcome::handshake_failed;
}

awaitable<connection_outcome> redis_handshake(tcp_socket& socket) {
  static constexpr std::string_view ping = "*1\r\n$4\r\nPING\r\n";
  auto [wec, written] = co_await asio::async_write(socket, asio::buffer(ping), use_tuple);
  if (wec) co_return outcome_of(wec);
  std::string reply;
  auto [rec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(reply, 512), "\r\n", use_tuple);
  if (rec == asio::error::not_found) co_return connection_outcome::handshake_failed;
  if (rec) co_return outcome_of(rec);
  co_return outcome_of_redis_reply(std::string_view(reply).substr(0, n - 2));
}

awaitable<connection_outcome> websocket_handshake(websocket_stream& ws, const storm_config& config) {
  websocket::response_type response;
  const auto host = config.target();  // a local: it must outlive the suspension
  auto [ec] = co_await ws.async_handshake(response, host, config.path, use_tuple);
  co_return connection_outcome_of_upgrade(ec, response.result_int());
}

std::optional<connection_outcome> drain_held(tcp_socket& socket) {
  std::array<char, 4096> scratch;
  for (;;) {
    boost::system::error_code ec;
    const auto n = socket.read_some(asio::buffer(scratch), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return std::nullopt;
    if (ec == asio::error::interrupted) continue;
    if (ec) return outcome_of(ec);
    if (n < scratch.size()) return std::nullopt;
  }
}

awaitable<std::optional<connection_outcome>> drain_held(websocket_stream& ws) {
  beast::flat_buffer message(max_reply);
  auto [ec, n] = co_await ws.async_read(message, use_tuple);
  if (!ec) co_return std::nullopt;
  co_return outcome_of(ec);
}

void say_goodbye(tcp_socket& socket, handshake_kind kind) {
  if (kind != handshake_kind::postgres) return;
  static constexpr std::array<char, 5> terminate{'X', 0, 0, 0, 4};
  boost::system::error_code ignored;
  socket.write_some(asio::buffer(terminate), ignored);
}

}  // namespace faultline::storm
