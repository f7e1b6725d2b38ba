#include "examples/shop/live_orders.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace faultline::shop {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto relaxed = std::memory_order_relaxed;

}  // namespace

asio::awaitable<void> live_orders::serve(beast::tcp_stream stream, http::request<http::string_body> request,
                                         order_service& orders) {
  // Count first, then check: two threads upgrading at once cannot both take the last place.
  if (metrics_.websocket_sessions_open.fetch_add(1, relaxed) >= config_.max_websocket_sessions) {
    metrics_.websocket_sessions_open.fetch_sub(1, relaxed);
    metrics_.websocket_sessions_rejected.fetch_add(1, relaxed);
    http::response<http::string_body> busy{http::status::service_unavailable, request.version()};
    busy.set(http::field::server, "faultline-shop");
    busy.set(http::field::retry_after, "1");
    busy.set(http::field::content_type, "application/json");
    busy.body() = nlohmann::json{{"error", "over " + std::to_string(config_.max_websocket_sessions) +
                                               " live sessions; try again"}}.dump();
    busy.keep_alive(false);
    busy.prepare_payload();
    stream.expires_after(std::chrono::seconds(1));
    co_await http::async_write(stream, busy, use_tuple);
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    co_return;
  }
  metrics_.websocket_sessions_accepted.fetch_add(1, relaxed);
  stream.expires_never();  // the WebSocket stream keeps its own timeouts
  websocket::stream<beast::tcp_stream> ws(std::move(stream));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = config_.idle_timeout;  // pinged at half of it; closed without an answer
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "faultline-shop"); }));
  if (auto [ec] = co_await ws.async_accept(request, use_tuple); !ec) {
    beast::flat_buffer buffer;
    for (;;) {
      auto [rec, n] = co_await ws.async_read(buffer, use_tuple);
      if (rec) break;  // closed by the client, idle, or broken
      const std::string message = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      const std::string reply = co_await answer(message, orders);
      ws.text(true);
      auto [wec, written] = co_await ws.async_write(asio::buffer(reply), use_tuple);
      if (wec) break;
    }
  }
  metrics_.websocket_sessions_open.fetch_sub(1, relaxed);
}

asio::awaitable<std::string> live_orders::answer(const std::string& message, order_service& orders) {
  const auto doc = nlohmann::json::parse(message, nullptr, false);
  const auto order = doc.is_object() ? doc.find("order") : doc.end();
  if (doc.is_discarded() || !doc.is_object() || order == doc.end() || !order->is_number_integer() ||
      order->get<std::int64_t>() <= 0) {
    metrics_.websocket_messages[static_cast<int>(outcome::invalid)].fetch_add(1, relaxed);
    nlohmann::json error{{"error", "send {\"id\": ..., \"order\": N} with N a positive order id"}};
    if (doc.is_object() && doc.contains("id")) error["id"] = doc["id"];
    co_return error.dump();
  }
  order_reply reply = co_await orders.get_order(order->get<std::int64_t>());
  metrics_.websocket_messages[static_cast<int>(reply.result)].fetch_add(1, relaxed);
  nlohmann::json answer{{"id", doc.value("id", nlohmann::json())}, {"order", *order}, {"status", reply.status}};
  if (*reply.served_from) answer["cache"] = reply.served_from;
  auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (!body.is_discarded()) answer[reply.status == 200 ? "state" : "error"] = body;
  co_return answer.dump();
}

}  // namespace faultline::shop
