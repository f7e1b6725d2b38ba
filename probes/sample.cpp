#include "probes/sample.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

#include <array>

namespace faultline::probes {
namespace {
constexpr std::array<std::string_view, outcome_count> outcome_names{
    "ok", "connect_refused", "reset", "timeout", "http_5xx", "http_4xx", "protocol_error", "unexpected_value"};
}

std::string_view to_string(outcome o) { return outcome_names[static_cast<std::size_t>(o)]; }

std::optional<outcome> outcome_from_string(std::string_view name) {
  for (std::size_t i = 0; i < outcome_names.size(); ++i)
    if (outcome_names[i] == name) return static_cast<outcome>(i);
  return std::nullopt;
}

outcome outcome_of(const boost::system::error_code& ec) {
  namespace asio = boost::asio;
  if (ec == boost::beast::error::timeout || ec == asio::error::timed_out || ec == asio::error::operation_aborted)
    return outcome::timeout;
  if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
      ec == asio::error::network_unreachable || ec == asio::error::host_not_found ||
      ec == asio::error::host_not_found_try_again || ec == boost::system::errc::address_not_available)
    return outcome::connect_refused;
  return outcome::reset;
}

}  // namespace faultline::probes
