#include "core/connection_outcome.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

#include <array>

namespace faultline {
namespace {

constexpr std::array<std::string_view, connection_outcome_count> outcome_names{
    "established", "refused", "reset", "timed_out", "handshake_failed", "closed_early", "local_error"};

}  // namespace

std::string_view to_string(connection_outcome o) {
  const auto i = static_cast<std::size_t>(o);
  return i < outcome_names.size() ? outcome_names[i] : "local_error";
}

std::optional<connection_outcome> connection_outcome_from_string(std::string_view name) {
  for (std::size_t i = 0; i < outcome_names.size(); ++i)
    if (outcome_names[i] == name) return static_cast<connection_outcome>(i);
  return std::nullopt;
}

connection_outcome connection_outcome_of(const boost::system::error_code& ec) {
  namespace e = boost::asio::error;
  namespace http = boost::beast::http;
  namespace websocket = boost::beast::websocket;
  if (ec == e::connection_refused || ec == e::host_unreachable || ec == e::network_unreachable)
    return connection_outcome::refused;
  if (ec == e::connection_reset || ec == e::broken_pipe || ec == e::connection_aborted) return connection_outcome::reset;
  if (ec == e::eof || ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == websocket::error::closed)
    return connection_outcome::closed_early;
  if (ec == e::timed_out || ec == e::operation_aborted) return connection_outcome::timed_out;
  if (ec == e::address_in_use || ec == boost::system::errc::address_not_available || ec == e::no_descriptors ||
      ec == e::no_buffer_space || ec == e::no_memory || ec == e::address_family_not_supported)
    return connection_outcome::local_error;
  return connection_outcome::handshake_failed;
}

connection_outcome connection_outcome_of_http_status(unsigned status) {
  if (status == 503 || status == 429) return connection_outcome::refused;
  if (status >= 500 || status < 100) return connection_outcome::handshake_failed;
  return connection_outcome::established;
}

connection_outcome connection_outcome_of_upgrade(const boost::system::error_code& ec, unsigned status) {
  if (!ec) return connection_outcome::established;
  if (ec == boost::beast::websocket::error::upgrade_declined) {
    const auto o = connection_outcome_of_http_status(status);
    return o == connection_outcome::established ? connection_outcome::handshake_failed : o;
  }
  return connection_outcome_of(ec);
}

}  // namespace faultline
