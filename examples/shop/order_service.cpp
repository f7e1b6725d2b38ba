#include "examples/shop/order_service.hpp"

#include "examples/shop/deadline.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace faultline::shop {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

std::string fresh_key(std::int64_t id) { return fmt::format("order:{}", id); }
std::string stale_key(std::int64_t id) { return fmt::format("order:{}:stale", id); }

order_service::order_service(asio::any_io_executor executor, const shop_config& config, shop_metrics& metrics,
                             circuit_breaker& breaker, asio::ip::tcp::endpoint redis_endpoint)
    : config_(config),
      metrics_(metrics),
      breaker_(breaker),
      postgres_(executor,
                postgres_settings{config.postgres.where.host, config.postgres.where.port, config.postgres_db,
                                  config.postgres_user, config.postgres_password},
                config.postgres.pool),
      redis_(executor, std::move(redis_endpoint), config.redis.pool),
      random_(std::random_device{}()) {}

asio::awaitable<order_reply> order_service::get_order(std::int64_t id) {
  if (config_.cache_ttl.count() > 0) {
    cache_read fresh = co_await read_cache(fresh_key(id));
    if (fresh.result == cache_read::status::hit) {
      metrics_.cache_hits.fetch_add(1, std::memory_order_relaxed);
      co_return order_reply{200, std::move(fresh.value), "hit", outcome::ok};
    }
    metrics_.cache_misses.fetch_add(1, std::memory_order_relaxed);
    if (fresh.result == cache_read::status::failed) metrics_.cache_errors.fetch_add(1, std::memory_order_relaxed);
  }

  order_lookup found = co_await query_database(id);
  if (found.status == lookup_status::found) {
    co_await write_cache(id, found.body);
    co_return order_reply{200, std::move(found.body), "miss", outcome::ok};
  }
  if (found.status == lookup_status::not_found)
    co_return order_reply{404, nlohmann::json{{"error", fmt::format("no order {}", id)}}.dump(), "miss", outcome::ok};

  cache_read stale = co_await read_cache(stale_key(id));
  if (stale.result == cache_read::status::hit) {
    metrics_.stale_hits.fetch_add(1, std::memory_order_relaxed);
    co_return order_reply{200, std::move(stale.value), "stale", outcome::stale};
  }
  metrics_.stale_misses.fetch_add(1, std::memory_order_relaxed);
  const std::string why =
      fmt::format("order {} unavailable: the database failed ({}) and there is no stale copy", id, found.error);
  co_return order_reply{503, nlohmann::json{{"error", why}}.dump(), "", outcome::error};
}

asio::awaitable<cache_read> order_service::read_cache(std::string key) {
  cache_read last;
  for (int attempt = 1; attempt <= config_.redis.retry.attempts; ++attempt) {
    if (attempt > 1) co_await sleep_for(config_.redis.retry.delay_after(attempt - 1, random_));
    auto read = co_await with_timeout(redis_.get(key), config_.redis.timeout);
    last = read ? std::move(*read) : cache_read{cache_read::status::failed, {}, "timeout"};
    if (last.result != cache_read::status::failed) co_return last;
    redis_log_.write(fmt::format("read failed key={} attempt={} error={}", key, attempt, quoted_value(last.error)));
  }
  co_return last;
}

asio::awaitable<void> order_service::write_cache(std::int64_t id, const std::string& order) {
  std::vector<cache_entry> entries;
  const auto ms = [](std::chrono::nanoseconds d) { return std::chrono::ceil<std::chrono::milliseconds>(d); };
  if (config_.cache_ttl.count() > 0) entries.push_back({fresh_key(id), order, ms(config_.cache_ttl)});
  entries.push_back({stale_key(id), order, ms(config_.stale_ttl)});
  auto error = co_await with_timeout(redis_.set(std::move(entries)), config_.redis.timeout);
  if (error && error->empty()) {
    metrics_.cache_writes_ok.fetch_add(1, std::memory_order_relaxed);
    co_return;
  }
  metrics_.cache_writes_failed.fetch_add(1, std::memory_order_relaxed);
  redis_log_.write(fmt::format("write failed id={} error={}", id, quoted_value(error ? *error : "timeout")));
}

asio::awaitable<order_lookup> order_service::query_database(std::int64_t id) {
  order_lookup last{lookup_status::failed, {}, "circuit breaker open"};
  for (int attempt = 1; attempt <= config_.postgres.retry.attempts; ++attempt) {
    if (attempt > 1) {
      if (breaker_.state() == breaker_state::open) break;  // no point waiting to be refused
      metrics_.db_retries.fetch_add(1, std::memory_order_relaxed);
      co_await sleep_for(config_.postgres.retry.delay_after(attempt - 1, random_));
    }
    const auto permit = breaker_.try_acquire(clock::now());
    if (!permit.allowed) {
      metrics_.breaker(dependency::postgres).rejections.fetch_add(1, std::memory_order_relaxed);
      last.error = breaker_.state() == breaker_state::open ? "circuit breaker open"
                                                           : "circuit breaker half-open, trials taken";
      break;
    }
    const auto started = clock::now();
    auto answer = co_await with_timeout(postgres_.find_order(id), config_.postgres.timeout);
    const auto now = clock::now();
    if (!answer) {
      metrics_.db_queries[static_cast<int>(db_result::timeout)].fetch_add(1, std::memory_order_relaxed);
      breaker_.record(permit, call_result::timeout, now - started, now);
      last = order_lookup{lookup_status::failed, {}, "timeout"};
    } else if (answer->status == lookup_status::failed) {
      metrics_.db_queries[static_cast<int>(db_result::error)].fetch_add(1, std::memory_order_relaxed);
      breaker_.record(permit, call_result::failure, now - started, now);
      last = std::move(*answer);
    } else {
      const auto result = answer->status == lookup_status::found ? db_result::ok : db_result::not_found;
      metrics_.db_queries[static_cast<int>(result)].fetch_add(1, std::memory_order_relaxed);
      breaker_.record(permit, call_result::success, now - started, now);
      co_return std::move(*answer);
    }
    postgres_log_.write(fmt::format("query failed id={} attempt={} error={}", id, attempt, quoted_value(last.error)));
  }
  co_return last;
}

asio::awaitable<health_report> order_service::check_health() {
  using namespace asio::experimental::awaitable_operators;
  health_report report;
  report.breaker = breaker_.state();
  if (report.breaker == breaker_state::open) {
    // Not asked while open: the breaker is there to leave PostgreSQL alone.
    auto redis = co_await with_timeout(redis_.ping(), config_.redis.timeout);
    report.redis_error = redis ? *redis : "timeout";
    report.postgres_error = "circuit breaker open";
  } else {
    auto [postgres, redis] = co_await (with_timeout(postgres_.ping(), config_.postgres.timeout) &&
                                       with_timeout(redis_.ping(), config_.redis.timeout));
    report.postgres_error = postgres ? *postgres : "timeout";
    report.redis_error = redis ? *redis : "timeout";
  }
  report.postgres_up = report.postgres_error.empty();
  report.redis_up = report.redis_error.empty();
  co_return report;
}

}  // namespace faultline::shop
