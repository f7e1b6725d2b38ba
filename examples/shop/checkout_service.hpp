#pragma once
// POST /checkout's payment for one thread: with a payments API configured, each checkout charges
// it once, through the payments breaker and within --payments-timeout. When the call fails (429,
// another error, a timeout) or the breaker refuses it, checkout still succeeds with its fallback:
// 202, the payment deferred (X-Payment: deferred), at once instead of an error.

#include "examples/shop/circuit_breaker.hpp"
#include "examples/shop/config.hpp"
#include "examples/shop/log.hpp"
#include "examples/shop/metrics.hpp"
#include "examples/shop/payments_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>

namespace faultline::shop {

struct checkout_reply {
  unsigned status = 200;
  std::string body;
  const char* payment = "";  // X-Payment header: "authorized", "deferred"; "" without a payments API
  outcome result = outcome::ok;
};

class checkout_service {
public:
  // `breaker` is null when no payments API is configured (then `payments_at` is unused).
  checkout_service(boost::asio::any_io_executor executor, const shop_config& config, shop_metrics& metrics,
                   circuit_breaker* breaker, const boost::asio::ip::tcp::endpoint& payments_at);

  boost::asio::awaitable<checkout_reply> check_out(std::string user);

private:
  const shop_config& config_;
  shop_metrics& metrics_;
  circuit_breaker* breaker_;
  std::optional<payments_client> payments_;
  rate_limited_log log_{"payments"};
};

}  // namespace faultline::shop
