#pragma once
// The shop's WebSocket side: GET /orders/live upgraded to a session of live order updates. The
// client sends {"id": ..., "order": N} and gets the order's state now, echoing its id. Sessions
// beyond --max-websocket-sessions are refused at once with a 503 instead of the upgrade; they do
// not count against the HTTP connection limit, so HTTP goes on being served.

#include "examples/shop/config.hpp"
#include "examples/shop/metrics.hpp"
#include "examples/shop/order_service.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace faultline::shop {

class live_orders {
public:
  live_orders(const shop_config& config, shop_metrics& metrics) : config_(config), metrics_(metrics) {}

  // Takes over a connection whose request asked for the upgrade: upgrades it and serves the
  // session until it ends, or answers 503 and closes when the session limit is reached.
  boost::asio::awaitable<void> serve(boost::beast::tcp_stream stream,
                                     boost::beast::http::request<boost::beast::http::string_body> request,
                                     order_service& orders);

  // The answer to one message (a JSON text), for the session and for tests.
  boost::asio::awaitable<std::string> answer(const std::string& message, order_service& orders);

private:
  const shop_config& config_;
  shop_metrics& metrics_;
};

}  // namespace faultline::shop
