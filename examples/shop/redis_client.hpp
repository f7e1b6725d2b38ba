#pragma once
// The cache for one thread: Redis commands over Asio sockets, encoded and parsed with hiredis's
// protocol functions (redisFormatCommandArgv, redisReader), pooled per thread. A connection that
// failed or was cancelled mid-command is closed, never reused.

#include "examples/shop/connection_pool.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct redisReader;

namespace faultline::shop {

struct redis_reply {
  enum class kind { string, nil, status, integer, error, array };
  kind type = kind::nil;
  std::string text;  // string, status and error replies
  long long integer = 0;
};

struct redis_result {
  bool ok = false;  // every command got a reply (error replies included)
  std::vector<redis_reply> replies;
  std::string error;
};

using redis_command = std::vector<std::string>;

class redis_connection {
public:
  redis_connection(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;

  boost::asio::awaitable<std::string> connect();  // empty on success
  // Sends the commands in one write (a pipeline) and reads one reply for each.
  boost::asio::awaitable<redis_result> run(std::vector<redis_command> commands);
  bool idle_and_alive();
  bool reusable() const { return reusable_; }

private:
  boost::asio::ip::tcp::socket socket_;
  boost::asio::ip::tcp::endpoint endpoint_;
  redisReader* reader_ = nullptr;
  bool reusable_ = false;
  std::array<char, 4096> buffer_;
};

struct cache_read {
  enum class status { hit, miss, failed };
  status result = status::failed;
  std::string value;
  std::string error;
};

struct cache_entry {
  std::string key;
  std::string value;
  std::chrono::milliseconds ttl;
};

class redis_client {
public:
  redis_client(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint, int pool_size);

  boost::asio::awaitable<cache_read> get(std::string key);
  boost::asio::awaitable<std::string> set(std::vector<cache_entry> entries);  // empty when all were stored
  boost::asio::awaitable<std::string> ping();                                 // empty on PONG

private:
  boost::asio::awaitable<redis_result> run(std::vector<redis_command> commands);

  std::shared_ptr<connection_pool<redis_connection>> pool_;
};

}  // namespace faultline::shop
