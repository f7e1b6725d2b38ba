#pragma once
// Orders from PostgreSQL through libpq's asynchronous API, driven by Asio on the calling
// thread's io_context: nothing blocks the thread, a try can be cancelled at any await (the
// timeout in order_service does that), and a connection whose query did not finish cleanly is
// closed, never reused.

#include "examples/shop/connection_pool.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

struct pg_conn;  // libpq's PGconn

namespace faultline::shop {

struct postgres_settings {
  std::string host;
  std::uint16_t port = 5432;
  std::string dbname;
  std::string user;
  std::string password;
};

struct pg_reply {
  bool ok = false;
  std::optional<std::string> value;  // first column of the first row, if there is a row
  std::string error;
};

// One libpq connection in non-blocking mode. Asio watches a duplicate of its socket for
// readiness; libpq does all the reading and writing.
class pg_connection {
public:
  pg_connection(boost::asio::any_io_executor executor, const postgres_settings& settings);
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;

  boost::asio::awaitable<std::string> connect();  // empty on success, else libpq's message
  // One statement with at most one text parameter.
  boost::asio::awaitable<pg_reply> query(const char* sql, const std::string* parameter = nullptr);
  bool idle_and_alive();
  bool reusable() const;  // connected, and the last query was read to its end

private:
  boost::asio::awaitable<boost::system::error_code> wait(boost::asio::posix::descriptor_base::wait_type what);
  bool watch_socket();  // (re)attach the descriptor to libpq's current socket
  std::string libpq_error() const;

  const postgres_settings settings_;
  pg_conn* conn_ = nullptr;
  boost::asio::posix::stream_descriptor socket_;
  int watched_fd_ = -1;          // libpq's descriptor that socket_ duplicates
  unsigned long watched_ino_ = 0;  // and its inode: libpq may reuse the number for a new socket
};

enum class lookup_status { found, not_found, failed };

struct order_lookup {
  lookup_status status = lookup_status::failed;
  std::string body;   // the order as JSON when found
  std::string error;  // why it failed
};

// The orders table for one thread: a pool of connections and the shop's queries.
class postgres_client {
public:
  postgres_client(boost::asio::any_io_executor executor, postgres_settings settings, int pool_size);

  boost::asio::awaitable<order_lookup> find_order(std::int64_t id);
  boost::asio::awaitable<std::string> ping();  // empty when PostgreSQL answers SELECT 1

private:
  boost::asio::awaitable<pg_reply> run(const char* sql, const std::string* parameter);

  postgres_settings settings_;
  std::shared_ptr<connection_pool<pg_connection>> pool_;
};

}  // namespace faultline::shop
