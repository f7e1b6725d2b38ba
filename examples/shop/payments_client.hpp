#pragma once
// The shop's side of the payments API for one thread: POST /payments over pooled HTTP/1.1
// keep-alive connections (Boost.Beast). A connection that failed, was cancelled mid-exchange or
// was told to close is closed, never reused.

#include "examples/shop/connection_pool.hpp"
#include "examples/shop/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <memory>
#include <string>

namespace faultline::shop {

struct payment_answer {
  payment_result result = payment_result::error;  // never `timeout`: the caller bounds the call
  unsigned status = 0;     // the HTTP status, 0 when there was none
  std::string payment_id;  // set when authorized
  std::string error;       // what went wrong otherwise
};

class payments_connection {
public:
  payments_connection(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint);
  payments_connection(const payments_connection&) = delete;

  boost::asio::awaitable<std::string> connect();  // empty on success
  boost::asio::awaitable<payment_answer> charge(std::string body);
  bool idle_and_alive();
  bool reusable() const { return reusable_; }

private:
  boost::asio::ip::tcp::socket socket_;
  boost::asio::ip::tcp::endpoint endpoint_;
  boost::beast::flat_buffer buffer_;
  bool reusable_ = false;
};

class payments_client {
public:
  payments_client(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint, int pool_size);

  // POST /payments with {"user": ...}: 2xx with a payment_id is authorized, 429 rate_limited,
  // anything else (another status, no connection, a broken answer) error.
  boost::asio::awaitable<payment_answer> charge(std::string user);

private:
  std::shared_ptr<connection_pool<payments_connection>> pool_;
};

}  // namespace faultline::shop
