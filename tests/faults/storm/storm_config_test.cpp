#include "faults/storm/storm_config.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace faultline;
using namespace faultline::storm;
using namespace std::chrono_literals;

namespace {

params defaults() {
  params p;
  for (const auto& spec : storm_params())
    if (spec.default_value) p.set(spec.name, *spec.default_value);
  return p;
}

std::string param_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const param_error& e) {
    return e.param() + ": " + e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("source address ranges expand in order", "[faults][storm]") {
  CHECK(expand_source_addresses({"127.0.0.2"}) == std::vector<std::string>{"127.0.0.2"});
  CHECK(expand_source_addresses({"127.0.0.254-127.0.1.1"}) ==
        std::vector<std::string>{"127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1"});
  CHECK(expand_source_addresses({"::1"}) == std::vector<std::string>{"::1"});
  CHECK(expand_source_addresses({"127.0.0.2", "127.0.0.5-127.0.0.6"}).size() == 3);
}

TEST_CASE("bad source addresses are errors naming the fix", "[faults][storm]") {
  CHECK(param_error_of([] { expand_source_addresses({"127.0.0.300"}); }) ==
        "source_addresses: '127.0.0.300' is not an IP address; write e.g. 127.0.0.2 or a range 127.0.0.2-127.0.0.40");
  CHECK(param_error_of([] { expand_source_addresses({"127.0.0.9-127.0.0.2"}); }) ==
        "source_addresses: range '127.0.0.9-127.0.0.2' ends before it starts");
  CHECK(param_error_of([] { expand_source_addresses({"127.0.0.2", "::1"}); }) ==
        "source_addresses: source addresses mix IPv4 and IPv6; use one family");
  CHECK(param_error_of([] { expand_source_addresses({"10.0.0.0-10.1.0.0"}); }) ==
        "source_addresses: range '10.0.0.0-10.1.0.0' has more than 65536 addresses");
  CHECK(param_error_of([] { expand_source_addresses({"::1-::2"}); }) ==
        "source_addresses: range '::1-::2': ranges are for IPv4 only; list IPv6 addresses one by one");
}

TEST_CASE("automatic source addresses spread loopback storms", "[faults][storm]") {
  CHECK(automatic_source_addresses("127.0.0.1", 1000, false).empty());  // one address: the kernel's
  CHECK(automatic_source_addresses("127.0.0.1", 10000, false).empty());
  CHECK(automatic_source_addresses("127.0.0.1", 50000, false) ==
        std::vector<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"});
  CHECK(automatic_source_addresses("127.0.0.1", 100, true).size() == 16);
  CHECK(automatic_source_addresses("10.200.0.1", 50000, false).empty());  // not loopback: kernel's choice
  CHECK(automatic_source_addresses("::1", 50000, false).empty());
}

TEST_CASE("storm config from parameters", "[faults][storm]") {
  auto p = defaults();
  p.set("connections", std::int64_t(5000));
  p.set("rate", 2000.0);
  p.set("handshake", std::string("websocket"));
  p.set("hold", std::chrono::nanoseconds(3s));
  p.set("path", std::string("/ws"));
  p.set("source_addresses", std::vector<std::string>{"127.0.0.2-127.0.0.4"});
  auto c = storm_config_from_params(p, "127.0.0.1", 8080);
  CHECK(c.target() == "127.0.0.1:8080");
  CHECK(c.connections == 5000);
  CHECK(c.rate == 2000.0);
  CHECK(c.handshake == handshake_kind::websocket);
  CHECK(c.hold == std::chrono::nanoseconds(3s));
  CHECK_FALSE(c.churn);
  CHECK(c.timeout == std::chrono::nanoseconds(5s));
  CHECK(c.path == "/ws");
  CHECK(c.source_addresses == std::vector<std::string>{"127.0.0.2", "127.0.0.3", "127.0.0.4"});

  auto defaulted = storm_config_from_params(defaults(), "::1", 6379);
  CHECK(defaulted.target() == "[::1]:6379");
  CHECK(defaulted.rate == 0);  // as fast as max_pending allows
  CHECK_FALSE(defaulted.hold);  // until stopped
  CHECK(defaulted.source_addresses.empty());  // chosen by the fleet once the target is resolved
}

TEST_CASE("bad storm parameter combinations are errors", "[faults][storm]") {
  auto p = defaults();
  p.set("path", std::string("ws"));
  CHECK(param_error_of([&] { validate_storm_params(p); }) == "path: path 'ws' must start with '/', e.g. /ws");
  auto q = defaults();
  q.set("source_addresses", std::vector<std::string>{"::1"});
  CHECK(param_error_of([&] { storm_config_from_params(q, "127.0.0.1", 80); }) ==
        "source_addresses: source addresses are IPv6 but the target 127.0.0.1:80 is IPv4");
}

TEST_CASE("storm config survives JSON for the workers", "[faults][storm]") {
  storm_config c;
  c.host = "localhost";
  c.address = "127.0.0.1";
  c.port = 5432;
  c.handshake = handshake_kind::postgres;
  c.connections = 123;
  c.rate = 45.5;
  c.hold = 2s;
  c.churn = true;
  c.timeout = 750ms;
  c.source_addresses = {"127.0.0.2"};
  c.max_pending = 7;
  c.workers = 3;
  c.path = "/x";
  c.user = "app";
  c.database = "shop";
  auto back = storm_config_from_json(nlohmann::json::parse(to_json(c).dump()));
  CHECK(to_json(back) == to_json(c));
  CHECK(back.hold == std::chrono::nanoseconds(2s));
  c.hold.reset();
  CHECK_FALSE(storm_config_from_json(to_json(c)).hold);
  CHECK_THROWS_AS(storm_config_from_json(nlohmann::json{{"host", "x"}}), std::invalid_argument);
}
