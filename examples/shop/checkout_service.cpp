#include "examples/shop/checkout_service.hpp"

#include "examples/shop/deadline.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace faultline::shop {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

checkout_service::checkout_service(asio::any_io_executor executor, const shop_config& config, shop_metrics& metrics,
                                   circuit_breaker* breaker, const asio::ip::tcp::endpoint& payments_at)
    : config_(config), metrics_(metrics), breaker_(breaker) {
  if (breaker_) payments_.emplace(std::move(executor), payments_at, config.payments_pool);
}

asio::awaitable<checkout_reply> checkout_service::check_out(std::string user) {
  nlohmann::json body{{"user", user}, {"checked_out", true}};
  if (!payments_) co_return checkout_reply{200, body.dump(), "", outcome::ok};

  std::string why;
  const auto permit = breaker_->try_acquire(clock::now());
  if (!permit.allowed) {
    metrics_.breaker(dependency::payments).rejections.fetch_add(1, std::memory_order_relaxed);
    why = breaker_->state() == breaker_state::open ? "circuit breaker open" : "circuit breaker half-open, trials taken";
  } else {
    const auto started = clock::now();
    auto answer = co_await with_timeout(payments_->charge(user), config_.payments_timeout);
    const auto now = clock::now();
    const payment_result result = answer ? answer->result : payment_result::timeout;
    metrics_.payments[static_cast<int>(result)].fetch_add(1, std::memory_order_relaxed);
    if (result == payment_result::authorized) {
      breaker_->record(permit, call_result::success, now - started, now);
      body["payment"] = "authorized";
      body["payment_id"] = answer->payment_id;
      co_return checkout_reply{200, body.dump(), "authorized", outcome::ok};
    }
    breaker_->record(permit, answer ? call_result::failure : call_result::timeout, now - started, now);
    why = answer ? answer->error : "timeout";
    log_.write(fmt::format("charge failed user={} error={}", quoted_value(user), quoted_value(why)));
  }
  // The fallback: the order is taken, its payment is to be collected later.
  body["payment"] = "deferred";
  body["reason"] = why;
  co_return checkout_reply{202, body.dump(), "deferred", outcome::stale};
}

}  // namespace faultline::shop
