#pragma once
// The protocol handshakes a storm connection completes after its TCP connect, and how the
// server's answer (or a transport error) maps to a connection outcome. A handshake has no timer
// of its own: the generator cancels the socket when the attempt's deadline passes.

#include "faults/storm/storm_config.hpp"
#include "faults/storm/storm_stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace faultline::storm {

using tcp_socket = boost::asio::ip::tcp::socket;
using websocket_stream = boost::beast::websocket::stream<tcp_socket&>;

// The class of a failed connect, read or write. operation_aborted counts as timed_out: the
// generator only cancels a socket when its deadline passed (or when stopping, which it knows).
inline connection_outcome outcome_of(const boost::system::error_code& ec) { return connection_outcome_of(ec); }

// What a server's answer means (pure, for tests).
inline connection_outcome outcome_of_http_status(unsigned status) {  // 503/429 refused, other 5xx failed
  return connection_outcome_of_http_status(status);
}
connection_outcome outcome_of_redis_reply(std::string_view line);      // one line, without CRLF
// PostgreSQL: one backend message (type byte and body without the length word).
// Returns established for an AuthenticationRequest other than Ok and for ReadyForQuery,
// refused for an ErrorResponse with SQLSTATE 53300, handshake_failed for other errors, and
// nothing (keep reading) for AuthenticationOk, ParameterStatus, BackendKeyData, notices.
std::optional<connection_outcome> outcome_of_postgres_message(char type, std::string_view body);
// The StartupMessage (protocol 3.0) for `user` and `database`.
std::string postgres_startup_message(const std::string& user, const std::string& database);

// Each handshake returns established or the class of its failure.
boost::asio::awaitable<connection_outcome> http_handshake(tcp_socket& socket, const storm_config& config);
boost::asio::awaitable<connection_outcome> postgres_handshake(tcp_socket& socket, const storm_config& config);
boost::asio::awaitable<connection_outcome> redis_handshake(tcp_socket& socket);
boost::asio::awaitable<connection_outcome> websocket_handshake(websocket_stream& ws, const storm_config& config);

// Reads whatever a held connection received and drops it, without waiting. Returns an outcome
// when the server closed (closed_early) or reset (reset) the connection, else nothing.
std::optional<connection_outcome> drain_held(tcp_socket& socket);
// A held WebSocket became readable: reads one message (answering pings as Beast does).
boost::asio::awaitable<std::optional<connection_outcome>> drain_held(websocket_stream& ws);

// A polite goodbye where the protocol has one (PostgreSQL Terminate), written without waiting.
void say_goodbye(tcp_socket& socket, handshake_kind kind);

}  // namespace faultline::storm
