#include "examples/shop/http_server.hpp"

#include "examples/shop/deadline.hpp"
#include "examples/shop/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <random>
#include <exception>

namespace faultline::shop {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

http_response make_response(const http_request& request, http::status status, std::string body,
                             const char* content_type) {
  http_response response{status, request.version()};
  response.set(http::field::server, "faultline-shop");
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  return response;
}

http_response error_response(const http_request& request, http::status status, std::string message) {
  return make_response(request, status, nlohmann::json{{"error", std::move(message)}}.dump(), "application/json");
}

// Keeps a gauge up while a scope runs.
class gauge_hold {
public:
  explicit gauge_hold(std::atomic<std::int64_t>& gauge) : gauge_(gauge) {}
  ~gauge_hold() { gauge_.fetch_sub(1, std::memory_order_relaxed); }
  gauge_hold(const gauge_hold&) = delete;

private:
  std::atomic<std::int64_t>& gauge_;
};

}  // namespace

http_server::http_server(std::vector<worker> workers, const shop_config& config, shop_metrics& metrics)
    : workers_(std::move(workers)),
      config_(config),
      metrics_(metrics),
      acceptor_(*workers_.front().context),
      tokens_(std::random_device{}() * 0x9e3779b97f4a7c15ull + std::random_device{}()),
      live_(config, metrics) {}

tcp::endpoint http_server::listen(const tcp::endpoint& where) {
  acceptor_.open(where.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(where);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint();
}

void http_server::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), log_stray_exception("http", "accept loop")); }

void http_server::stop_accepting() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

asio::awaitable<void> http_server::accept_loop() {
  for (;;) {
    worker& next = workers_[next_worker_++ % workers_.size()];
    tcp::socket socket(*next.context);
    auto [ec] = co_await acceptor_.async_accept(socket, use_tuple);
    if (!acceptor_.is_open()) co_return;
    if (ec) {
      // Out of descriptors during a connection storm, most likely: pause rather than spin.
      log_.write(fmt::format("accept failed error={}", quoted_value(ec.message())));
      co_await sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (metrics_.connections_open.load(std::memory_order_relaxed) >= config_.max_connections) {
      reject(socket);
      continue;
    }
    metrics_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    metrics_.connections_open.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(socket.get_executor(), serve(std::move(socket), next), log_stray_exception("http", "connection"));
  }
}

void http_server::reject(tcp::socket& socket) {
  static constexpr std::string_view busy =
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  metrics_.connections_rejected.fetch_add(1, std::memory_order_relaxed);
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);  // a fresh socket's buffer takes this at once; never wait
  socket.write_some(asio::buffer(busy), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> http_server::serve(tcp::socket socket, worker services) {
  order_service& orders = *services.orders;
  gauge_hold open(metrics_.connections_open);  // counted up by the accept loop
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    stream.expires_after(config_.idle_timeout);
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple); ec) break;  // closed, idle, bad
    http_request request = parser.release();
    if (request.target() == "/orders/live" && websocket::is_upgrade(request)) {
      // A live session from now on: it leaves the HTTP connections (this scope's gauge).
      asio::co_spawn(stream.get_executor(), live_.serve(std::move(stream), std::move(request), orders),
                     log_stray_exception("http", "live session"));
      co_return;
    }

    const auto started = std::chrono::steady_clock::now();
    const std::string_view target = request.target().substr(0, request.target().find('?'));
    route r = route::other;
    answered a;
    const bool post_route = target == "/login" || target == "/checkout";
    if (request.method() != (post_route ? http::verb::post : http::verb::get)) {
      a = {error_response(request, http::status::method_not_allowed, post_route ? "only POST is served here" : "only GET is served"),
           outcome::invalid};
      a.response.set(http::field::allow, post_route ? "POST" : "GET");
    } else if (target == "/login") {
      r = route::login;
      a = answer_login(request);
    } else if (target == "/checkout") {
      r = route::checkout;
      a = co_await answer_checkout(request, *services.checkout);
    } else if (target == "/orders/live") {
      a = {error_response(request, http::status::upgrade_required, "/orders/live is a WebSocket endpoint; upgrade to it"),
           outcome::invalid};
      a.response.set(http::field::upgrade, "websocket");
    } else if (target.starts_with("/orders/")) {
      r = route::orders;
      a = co_await answer_order(request, target.substr(8), orders);
    } else if (target == "/health") {
      r = route::health;
      a = co_await answer_health(request, orders);
    } else if (target == "/metrics") {
      r = route::metrics;
      a = {make_response(request, http::status::ok, metrics_.render(), "text/plain; version=0.0.4; charset=utf-8"),
           outcome::ok};
    } else {
      a = {error_response(request, http::status::not_found, "the shop serves /orders/{id}, /health, /metrics, /login and /checkout"),
           outcome::invalid};
    }
    metrics_.count_request(r, a.result, std::chrono::steady_clock::now() - started);

    a.response.keep_alive(request.keep_alive());
    a.response.prepare_payload();
    stream.expires_after(config_.idle_timeout);
    auto [ec, n] = co_await http::async_write(stream, a.response, use_tuple);
    if (ec || !a.response.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<http_server::answered> http_server::answer_order(const http_request& request, std::string_view id_text,
                                                    order_service& orders) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (id_text.empty() || ec != std::errc{} || end != id_text.data() + id_text.size() || id <= 0)
    co_return answered{error_response(request, http::status::bad_request,
                                      fmt::format("'{}' is not an order id; ids are positive integers", id_text)),
                       outcome::invalid};

  const auto before = metrics_.inflight.fetch_add(1, std::memory_order_relaxed);
  gauge_hold inflight(metrics_.inflight);
  if (config_.max_inflight > 0 && before >= config_.max_inflight) {
    answered shed{error_response(request, http::status::service_unavailable,
                                 fmt::format("over {} requests in flight; try again", config_.max_inflight)),
                  outcome::shed};
    shed.response.set(http::field::retry_after, "1");
    co_return shed;
  }

  order_reply reply = co_await orders.get_order(id);
  answered a{make_response(request, static_cast<http::status>(reply.status), std::move(reply.body), "application/json"),
             reply.result};
  if (*reply.served_from) a.response.set("X-Cache", reply.served_from);
  if (reply.status == 503) a.response.set(http::field::retry_after, "1");
  co_return a;
}

asio::awaitable<http_server::answered> http_server::answer_health(const http_request& request, order_service& orders) {
  const health_report health = co_await orders.check_health();
  nlohmann::json postgres{{"up", health.postgres_up}, {"breaker", std::string(to_string(health.breaker))}};
  if (!health.postgres_up) postgres["error"] = health.postgres_error;
  nlohmann::json redis{{"up", health.redis_up}};
  if (!health.redis_up) redis["error"] = health.redis_error;
  const char* status = health.postgres_up && health.redis_up ? "ok" : health.can_serve() ? "degraded" : "down";
  nlohmann::json body{{"status", status}, {"postgres", postgres}, {"redis", redis}};
  co_return answered{make_response(request, health.can_serve() ? http::status::ok : http::status::service_unavailable,
                                   body.dump(), "application/json"),
                     health.can_serve() ? outcome::ok : outcome::error};
}

// {"user": "ann"} -> {"token": "..."}: a token for the next requests of that user.
http_server::answered http_server::answer_login(const http_request& request) const {
  auto body = nlohmann::json::parse(request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("user") || !body["user"].is_string() ||
      body["user"].get<std::string>().empty())
    return {error_response(request, http::status::bad_request, R"(the body must be {"user": "<name>"})"), outcome::invalid};
  const auto user = body["user"].get<std::string>();
  return {make_response(request, http::status::ok, nlohmann::json{{"user", user}, {"token", tokens_.issue(user)}}.dump(),
                        "application/json"),
          outcome::ok};
}

// Authorization: Bearer <token from /login> -> the checkout (200, or 202 with the payment
// deferred); anything else -> 401.
asio::awaitable<http_server::answered> http_server::answer_checkout(const http_request& request,
                                                                    checkout_service& checkout) const {
  const auto header = request[http::field::authorization];
  constexpr std::string_view bearer = "Bearer ";
  const auto user = header.starts_with(bearer) ? tokens_.user_of(header.substr(bearer.size())) : std::nullopt;
  if (!user) {
    auto a = answered{error_response(request, http::status::unauthorized, "sign in with POST /login and send "
                                                                          "Authorization: Bearer <token>"),
                      outcome::invalid};
    a.response.set(http::field::www_authenticate, "Bearer");
    co_return a;
  }
  checkout_reply reply = co_await checkout.check_out(*user);
  answered a{make_response(request, static_cast<http::status>(reply.status), std::move(reply.body), "application/json"),
             reply.result};
  if (*reply.payment) a.response.set("X-Payment", reply.payment);
  co_return a;
}

}  // namespace faultline::shop
