#pragma once
// How a connection attempt ended, in the classes the connection storm and the WebSocket load
// both report: one enum, its names, and the one classification of transport errors and of a
// server's HTTP answer (a plain response or a declined WebSocket upgrade).

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace faultline {

// The final class of one connection attempt. A held connection that the server later closes or
// resets moves from `established` to `closed_early` or `reset`.
enum class connection_outcome : std::uint8_t {
  established,       // connected, handshake done, open until the client closed it (or still open)
  refused,           // RST to the SYN, or the server's handshake answer refused it (PostgreSQL
                     // 53300, Redis "max number of clients", HTTP 503/429)
  reset,             // reset by the server during the handshake or while held
  timed_out,         // connect plus handshake did not finish within the timeout
  handshake_failed,  // the server answered something else (bad status, protocol error)
  closed_early,      // the server closed it (EOF) before the client was done with it
  local_error,       // the client could not try (no free port, out of file descriptors)
};
inline constexpr std::size_t connection_outcome_count = 7;

std::string_view to_string(connection_outcome o);
std::optional<connection_outcome> connection_outcome_from_string(std::string_view name);

// The class of a failed connect, read or write. operation_aborted counts as timed_out: clients
// cancel a socket when its deadline passed (or when stopping, which they know).
connection_outcome connection_outcome_of(const boost::system::error_code& ec);
// What an HTTP status answering a handshake means: 503 and 429 refused, other 5xx (and
// non-statuses) handshake_failed, anything else established.
connection_outcome connection_outcome_of_http_status(unsigned status);
// A WebSocket upgrade that ended with `ec` (empty: upgraded); `status` is the server's answer
// when it declined the upgrade: 503/429 refused, any other answer handshake_failed.
connection_outcome connection_outcome_of_upgrade(const boost::system::error_code& ec, unsigned status);

}  // namespace faultline
