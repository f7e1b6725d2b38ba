#pragma once
// The shop's HTTP side: one acceptor hands connections round robin to the threads'
// io_contexts; one coroutine per connection reads requests (keep-alive, idle timeout), routes
// them and writes the answers. POST /login and POST /checkout give load journeys a sign-in whose
// token the next request must carry (and checkout charges the payments API, when there is one). Two limits shed load: open connections (over the limit: 503 and
// close) and order requests in flight (over the limit: 503 at once). GET /orders/live upgrades
// to a WebSocket session (live_orders), which leaves the HTTP connection count.

#include "examples/shop/checkout_service.hpp"
#include "examples/shop/config.hpp"
#include "examples/shop/live_orders.hpp"
#include "examples/shop/metrics.hpp"
#include "examples/shop/order_service.hpp"
#include "examples/shop/session_tokens.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace faultline::shop {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// A thread's io_context and the services bound to it.
struct worker {
  boost::asio::io_context* context;
  order_service* orders;
  checkout_service* checkout;
};

class http_server {
public:
  http_server(std::vector<worker> workers, const shop_config& config, shop_metrics& metrics);

  // Binds and listens (on the first worker's context); returns the address actually bound.
  boost::asio::ip::tcp::endpoint listen(const boost::asio::ip::tcp::endpoint& where);
  void start();           // begins accepting
  void stop_accepting();  // closes the listening socket; open connections finish their requests

private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket, worker services);
  struct answered {
    http_response response;
    outcome result = outcome::ok;
  };
  boost::asio::awaitable<answered> answer_order(const http_request& request, std::string_view id,
                                                order_service& orders);
  boost::asio::awaitable<answered> answer_health(const http_request& request, order_service& orders);
  answered answer_login(const http_request& request) const;
  boost::asio::awaitable<answered> answer_checkout(const http_request& request, checkout_service& checkout) const;
  void reject(boost::asio::ip::tcp::socket& socket);

  std::vector<worker> workers_;
  const shop_config& config_;
  shop_metrics& metrics_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::size_t next_worker_ = 0;
  rate_limited_log log_{"http"};
  session_tokens tokens_;
  live_orders live_;
};

}  // namespace faultline::shop
