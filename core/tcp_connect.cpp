#include "core/tcp_connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>

namespace faultline {
namespace asio = boost::asio;
using asio::ip::tcp;

asio::awaitable<boost::system::error_code> connect_before(boost::beast::tcp_stream& stream, const address& where, clock::time_point deadline) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(where.host, ec);
  stream.expires_at(deadline);
  if (!ec) {
    auto [cec] = co_await stream.async_connect(tcp::endpoint(ip, where.port), use_tuple);
    co_return cec;
  }
  tcp::resolver resolver(stream.get_executor());
  auto [rec, results] = co_await resolver.async_resolve(where.host, std::to_string(where.port), use_tuple);
  if (rec) co_return rec;
  auto [cec, endpoint] = co_await stream.async_connect(results, use_tuple);
  (void)endpoint;
  co_return cec;
}

}  // namespace faultline
