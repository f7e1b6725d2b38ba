#include "probes/tcp_connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <stdexcept>

namespace faultline::probes {
namespace asio = boost::asio;
using asio::ip::tcp;

endpoint_name split_address(std::string_view address) {
  const auto bad = [&] {
    return std::invalid_argument("'" + std::string(address) + "' is not host:port (e.g. 127.0.0.1:6379 or [::1]:6379)");
  };
  endpoint_name out;
  std::string_view port;
  if (address.starts_with("[")) {
    const auto close = address.find("]:");
    if (close == std::string_view::npos) throw bad();
    out.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) throw bad();
    out.host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  if (out.host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) throw bad();
  out.port = std::string(port);
  return out;
}

outcome outcome_of(const boost::system::error_code& ec) {
  if (ec == boost::beast::error::timeout || ec == asio::error::timed_out || ec == asio::error::operation_aborted)
    return outcome::timeout;
  if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
      ec == asio::error::network_unreachable || ec == asio::error::host_not_found ||
      ec == asio::error::host_not_found_try_again || ec == boost::system::errc::address_not_available)
    return outcome::connect_refused;
  return outcome::reset;
}

asio::awaitable<std::optional<outcome>> connect_before(boost::beast::tcp_stream& stream, const endpoint_name& where,
                                                       clock::time_point deadline) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(where.host, ec);
  stream.expires_at(deadline);
  if (!ec) {
    auto [cec] = co_await stream.async_connect(tcp::endpoint(address, static_cast<std::uint16_t>(std::stoi(where.port))), use_tuple);
    if (cec) co_return outcome_of(cec);
    co_return std::nullopt;
  }
  tcp::resolver resolver(stream.get_executor());
  auto [rec, results] = co_await resolver.async_resolve(where.host, where.port, use_tuple);
  if (rec) co_return outcome::connect_refused;
  auto [cec, ep] = co_await stream.async_connect(results, use_tuple);
  if (cec) co_return outcome_of(cec);
  co_return std::nullopt;
}

}  // namespace faultline::probes
