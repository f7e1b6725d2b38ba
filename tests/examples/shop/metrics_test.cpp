#include "examples/shop/metrics.hpp"

#include <catch2/catch.hpp>

using namespace faultline::shop;
using namespace std::chrono_literals;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics in the Prometheus text format", "[examples][shop]") {
  shop_metrics m;
  m.count_request(route::orders, outcome::ok, 300us);
  m.count_request(route::orders, outcome::ok, 2ms);
  m.count_request(route::orders, outcome::stale, 40ms);
  m.count_request(route::orders, outcome::error, 20s);  // beyond the last finite bucket
  m.cache_hits = 3;
  m.cache_misses = 1;
  m.db_queries[static_cast<int>(db_result::timeout)] = 2;
  m.count_transition(dependency::postgres, {breaker_state::closed, breaker_state::open, {}, "reason=test"});
  const std::string text = m.render();

  CHECK(has_line(text, "# TYPE shop_requests_total counter"));
  CHECK(has_line(text, R"(shop_requests_total{route="/orders/{id}",outcome="ok"} 2)"));
  CHECK(has_line(text, R"(shop_requests_total{route="/orders/{id}",outcome="stale"} 1)"));
  CHECK(has_line(text, R"(shop_requests_total{route="/orders/{id}",outcome="error"} 1)"));
  CHECK(has_line(text, R"(shop_requests_total{route="/health",outcome="ok"} 0)"));

  CHECK(has_line(text, "# TYPE shop_request_duration_seconds histogram"));
  CHECK(has_line(text, R"(shop_request_duration_seconds_bucket{route="/orders/{id}",le="0.0005"} 1)"));
  CHECK(has_line(text, R"(shop_request_duration_seconds_bucket{route="/orders/{id}",le="0.0025"} 2)"));
  CHECK(has_line(text, R"(shop_request_duration_seconds_bucket{route="/orders/{id}",le="0.05"} 3)"));
  CHECK(has_line(text, R"(shop_request_duration_seconds_bucket{route="/orders/{id}",le="10"} 3)"));
  CHECK(has_line(text, R"(shop_request_duration_seconds_bucket{route="/orders/{id}",le="+Inf"} 4)"));
  CHECK(has_line(text, R"(shop_request_duration_seconds_count{route="/orders/{id}"} 4)"));
  CHECK(has_line(text, R"(shop_request_duration_seconds_sum{route="/orders/{id}"} 20.042300000)"));

  CHECK(has_line(text, R"(shop_breaker_state{dependency="postgres"} 1)"));
  CHECK(has_line(text, R"(shop_breaker_transitions_total{dependency="postgres",from="closed",to="open"} 1)"));
  CHECK(has_line(text, R"(shop_breaker_transitions_total{dependency="postgres",from="open",to="half_open"} 0)"));
  CHECK(has_line(text, "shop_cache_hits_total 3"));
  CHECK(has_line(text, "shop_cache_misses_total 1"));
  CHECK(has_line(text, "shop_cache_hit_ratio 0.75"));
  CHECK(has_line(text, R"(shop_db_queries_total{result="timeout"} 2)"));
  CHECK(text.back() == '\n');
}

TEST_CASE("the hit ratio is 0 before the first read", "[examples][shop]") {
  shop_metrics m;
  CHECK(m.render().find("\nshop_cache_hit_ratio 0\n") != std::string::npos);
}
