#pragma once
// The HTTP transport of the control API (Boost.Beast): one coroutine per client connection,
// keep-alive, a read deadline and a body limit; every request goes to control_api::handle().

#include "faults/proxy/control_api.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>

namespace faultline::proxy {

// The daemon's translation between HTTP messages and control_api (its fuzz target uses it too).
api_request to_api_request(const boost::beast::http::request<boost::beast::http::string_body>& request);
boost::beast::http::response<boost::beast::http::string_body> to_http_response(api_response result, unsigned version,
                                                                               bool keep_alive);

class api_server {
public:
  // Binds at once; throws boost::system::system_error when the address cannot be used.
  api_server(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint, control_api& api);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();  // serves on the io_context until stop()
  void stop();   // stops accepting; call on the io_context's thread

private:
  static boost::asio::awaitable<void> accept_loop(api_server* self);
  static boost::asio::awaitable<void> serve(api_server* self, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  control_api& api_;
};

}  // namespace faultline::proxy
