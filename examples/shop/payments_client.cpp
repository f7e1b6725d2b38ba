#include "examples/shop/payments_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

namespace faultline::shop {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

payments_connection::payments_connection(asio::any_io_executor executor, tcp::endpoint endpoint)
    : socket_(std::move(executor)), endpoint_(std::move(endpoint)) {}

asio::awaitable<std::string> payments_connection::connect() {
  auto [ec] = co_await socket_.async_connect(endpoint_, use_tuple);
  if (ec) co_return "connecting: " + ec.message();
  socket_.set_option(tcp::no_delay(true), ec);
  reusable_ = true;
  co_return std::string{};
}

asio::awaitable<payment_answer> payments_connection::charge(std::string body) {
  reusable_ = false;  // until the whole answer has been read
  http::request<http::string_body> request{http::verb::post, "/payments", 11};
  request.set(http::field::host, endpoint_.address().to_string() + ":" + std::to_string(endpoint_.port()));
  request.set(http::field::user_agent, "faultline-shop");
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  if (auto [ec, n] = co_await http::async_write(socket_, request, use_tuple); ec)
    co_return payment_answer{payment_result::error, 0, {}, "sending: " + ec.message()};

  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  if (auto [ec, n] = co_await http::async_read(socket_, buffer_, parser, use_tuple); ec)
    co_return payment_answer{payment_result::error, 0, {}, "reading: " + ec.message()};
  const auto& response = parser.get();
  reusable_ = response.keep_alive();
  const unsigned status = response.result_int();
  if (status == 429) co_return payment_answer{payment_result::rate_limited, status, {}, "429 Too Many Requests"};
  if (status < 200 || status > 299)
    co_return payment_answer{payment_result::error, status, {}, "answered " + std::to_string(status)};
  const auto json = nlohmann::json::parse(response.body(), nullptr, false);
  if (!json.is_object() || !json.contains("payment_id") || !json["payment_id"].is_string())
    co_return payment_answer{payment_result::error, status, {}, "answer without a payment_id"};
  co_return payment_answer{payment_result::authorized, status, json["payment_id"].get<std::string>(), {}};
}

bool payments_connection::idle_and_alive() {
  return reusable_ && buffer_.size() == 0 && idle_socket_open(socket_.native_handle());
}

payments_client::payments_client(asio::any_io_executor executor, tcp::endpoint endpoint, int pool_size)
    : pool_(std::make_shared<connection_pool<payments_connection>>(
          pool_size, [executor, endpoint] { return std::make_unique<payments_connection>(executor, endpoint); })) {}

asio::awaitable<payment_answer> payments_client::charge(std::string user) {
  auto got = co_await pool_->acquire();
  if (!got.connection) co_return payment_answer{payment_result::error, 0, {}, got.error};
  // (GCC 12 cannot keep a braced list alive across co_await: build the body first.)
  nlohmann::json body;
  body["user"] = std::move(user);
  payment_answer answer = co_await got.connection->charge(body.dump());
  if (got.connection->reusable()) got.connection.keep();
  co_return answer;
}

}  // namespace faultline::shop
