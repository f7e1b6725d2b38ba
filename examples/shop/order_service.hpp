#pragma once
// GET /orders/{id} and GET /health for one thread. Orders are read cache-aside: a fresh copy
// from Redis if there is one; otherwise PostgreSQL, through the circuit breaker, with a timeout
// per try and bounded retries, storing a fresh copy (short TTL) and a stale copy (long TTL);
// and when PostgreSQL fails or the breaker refuses, the stale copy. Without one: 503, at once.

#include "examples/shop/circuit_breaker.hpp"
#include "examples/shop/config.hpp"
#include "examples/shop/log.hpp"
#include "examples/shop/metrics.hpp"
#include "examples/shop/postgres_client.hpp"
#include "examples/shop/redis_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace faultline::shop {

struct order_reply {
  unsigned status = 503;
  std::string body;
  const char* served_from = "";  // X-Cache header: "hit", "miss" (from PostgreSQL), "stale"; "" for none
  outcome result = outcome::error;
};

struct health_report {
  bool postgres_up = false;
  bool redis_up = false;
  breaker_state breaker = breaker_state::closed;
  std::string postgres_error;
  std::string redis_error;
  bool can_serve() const { return postgres_up || redis_up; }
};

// Redis keys of one order: the fresh copy and the stale fallback.
std::string fresh_key(std::int64_t id);  // "order:{id}"
std::string stale_key(std::int64_t id);  // "order:{id}:stale"

class order_service {
public:
  order_service(boost::asio::any_io_executor executor, const shop_config& config, shop_metrics& metrics,
                circuit_breaker& breaker, boost::asio::ip::tcp::endpoint redis_endpoint);

  boost::asio::awaitable<order_reply> get_order(std::int64_t id);
  boost::asio::awaitable<health_report> check_health();

private:
  // The value at `key`, or nothing on a miss or a failure (after the configured tries).
  boost::asio::awaitable<cache_read> read_cache(std::string key);
  boost::asio::awaitable<void> write_cache(std::int64_t id, const std::string& order);
  boost::asio::awaitable<order_lookup> query_database(std::int64_t id);

  const shop_config& config_;
  shop_metrics& metrics_;
  circuit_breaker& breaker_;
  postgres_client postgres_;
  redis_client redis_;
  std::mt19937_64 random_;
  rate_limited_log postgres_log_{"postgres"};
  rate_limited_log redis_log_{"redis"};
};

}  // namespace faultline::shop
