#include "probes/redis_probe.hpp"
#include "tests/probes/probe_test_params.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/real_servers.hpp"
#include "tests/support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;

namespace {
sample check_once(probe& p, boost::asio::io_context& io) { return test::run_awaitable(io, p.check(probes::clock::now())); }
}  // namespace

TEST_CASE("redis probe against a real Redis", "[probes]") {
  test::redis_server redis;
  boost::asio::io_context io;
  auto make = [&](std::initializer_list<std::pair<std::string, param_value>> v) {
    auto p = test::probe_params("redis", v);
    p.set("address", redis.address());
    return test::make_probe("redis", p, io.get_executor());
  };

  SECTION("PING by default, over one kept connection") {
    auto p = make({});
    for (int i = 0; i < 3; ++i) CHECK(check_once(*p, io).result == outcome::ok);
    CHECK(check_once(*make({{"expect", std::string("PONG")}}), io).result == outcome::ok);
  }
  SECTION("a command's reply is compared and numeric replies are values") {
    CHECK(check_once(*make({{"command", std::string("SET \"my key\" 42.5")}, {"expect", std::string("OK")}}), io).result == outcome::ok);
    auto s = check_once(*make({{"command", std::string("GET \"my key\"")}, {"expect", std::string("42.5")}}), io);
    CHECK(s.result == outcome::ok);
    CHECK(s.value == 42.5);
    s = check_once(*make({{"command", std::string("INCR counter")}}), io);
    CHECK(s.value == 1.0);
    s = check_once(*make({{"command", std::string("GET \"my key\"")}, {"expect", std::string("7")}}), io);
    CHECK(s.result == outcome::unexpected_value);
    s = check_once(*make({{"command", std::string("GET nothing")}, {"expect", std::string("7")}}), io);
    CHECK(s.result == outcome::unexpected_value);
    CHECK_FALSE(s.value);
  }
  SECTION("an error reply is a protocol_error") {
    CHECK(check_once(*make({{"command", std::string("NOSUCHCOMMAND")}}), io).result == outcome::protocol_error);
  }
  SECTION("a stopped server is refused") {
    auto p = make({});
    CHECK(check_once(*p, io).result == outcome::ok);
    redis.stop();
    const auto s = check_once(*p, io);
    CHECK((s.result == outcome::reset || s.result == outcome::connect_refused));
    CHECK(check_once(*p, io).result == outcome::connect_refused);
  }
}

TEST_CASE("redis probe times out on a server that accepts and never answers", "[probes]") {
  test::http_test_server silent;
  silent.set_silent(true);
  boost::asio::io_context io;
  auto params = test::probe_params("redis", {}, 300ms);
  params.set("address", "127.0.0.1:" + std::to_string(silent.port()));
  auto p = test::make_probe("redis", params, io.get_executor());
  const auto s = check_once(*p, io);
  CHECK(s.result == outcome::timeout);
  CHECK(s.latency >= 300ms);
  CHECK(s.latency < 3s);
}

TEST_CASE("redis commands split like redis-cli", "[probes]") {
  CHECK(split_redis_command("SET k \"a b\"") == std::vector<std::string>{"SET", "k", "a b"});
  CHECK(split_redis_command("  PING  ") == std::vector<std::string>{"PING"});
  CHECK_THROWS_AS(split_redis_command("GET \"open"), std::invalid_argument);
  CHECK_THROWS_AS(split_redis_command("   "), std::invalid_argument);
}
