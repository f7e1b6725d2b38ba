#include "probes/metric_probe.hpp"
#include "tests/probes/probe_test_params.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <cmath>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;

namespace {
const char* exposition = R"(# HELP shop_breaker_state 0 closed, 1 half-open, 2 open
# TYPE shop_breaker_state gauge
shop_breaker_state{dependency="postgres"} 2
shop_breaker_state{dependency="redis",zone="a"} 0
shop_requests_total{code="200"} 1027 1700000000000
shop_requests_total{code="500"} 3
shop_temperature NaN
shop_escaped{path="a\"b"} 5
)";
}  // namespace

TEST_CASE("series selectors parse", "[probes]") {
  auto s = parse_series_selector("shop_breaker_state{dependency=\"postgres\"}");
  CHECK(s.name == "shop_breaker_state");
  CHECK(s.labels == std::map<std::string, std::string>{{"dependency", "postgres"}});
  CHECK(parse_series_selector("up").labels.empty());
  CHECK_THROWS_WITH(parse_series_selector("x{a=b}"),
                    "'x{a=b}' is not a series: the value of label 'a' must be in double quotes (write name or "
                    "name{label=\"value\"}, e.g. shop_breaker_state{dependency=\"postgres\"})");
  CHECK_THROWS_AS(parse_series_selector("{a=\"b\"}"), std::invalid_argument);
  CHECK_THROWS_AS(parse_series_selector("x y"), std::invalid_argument);
}

TEST_CASE("one series is picked from an exposition", "[probes]") {
  auto find = [](const char* sel) { return find_series(exposition, parse_series_selector(sel)); };
  CHECK(find("shop_breaker_state{dependency=\"postgres\"}").value == 2.0);
  CHECK(find("shop_breaker_state{dependency=\"postgres\"}").matches == 1);
  CHECK(find("shop_breaker_state{dependency=\"redis\"}").value == 0.0);  // a subset of the labels
  CHECK(find("shop_breaker_state").matches == 2);
  CHECK(find("shop_requests_total{code=\"200\"}").value == 1027.0);  // timestamp ignored
  CHECK(find("shop_breaker").matches == 0);
  CHECK(std::isnan(*find("shop_temperature").value));
  CHECK(find("shop_escaped{path=\"a\\\"b\"}").value == 5.0);
}

TEST_CASE("metric probe scrapes an endpoint", "[probes]") {
  test::http_test_server server([](const test::http_test_request& r) {
    if (r.target == "/metrics") return test::http_test_reply{200, exposition};
    return test::http_test_reply{500, "no"};
  });
  boost::asio::io_context io;
  auto make = [&](const std::string& target, const std::string& series) {
    return test::make_probe("metric", test::probe_params("metric", {{"url", server.url(target)}, {"series", series}}),
                            io.get_executor());
  };
  auto s = test::run_awaitable(io, make("/metrics", "shop_breaker_state{dependency=\"postgres\"}")->check(probes::clock::now()));
  CHECK(s.result == outcome::ok);
  CHECK(s.value == 2.0);
  s = test::run_awaitable(io, make("/metrics", "shop_breaker_state")->check(probes::clock::now()));
  CHECK(s.result == outcome::unexpected_value);  // ambiguous
  s = test::run_awaitable(io, make("/metrics", "absent")->check(probes::clock::now()));
  CHECK(s.result == outcome::unexpected_value);
  s = test::run_awaitable(io, make("/other", "absent")->check(probes::clock::now()));
  CHECK(s.result == outcome::http_5xx);
  CHECK_THROWS_AS(make("/metrics", "bad{"), param_error);
}
