#include "probes/postgres_probe.hpp"
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

TEST_CASE("postgres probe against a real PostgreSQL", "[probes]") {
  test::postgres_server pg;
  boost::asio::io_context io;
  auto make = [&](std::initializer_list<std::pair<std::string, param_value>> v, std::chrono::nanoseconds timeout = 5s) {
    auto p = test::probe_params("postgres", v, timeout);
    p.set("address", pg.address());
    return test::make_probe("postgres", p, io.get_executor());
  };

  SECTION("SELECT 1 by default; the first value is recorded") {
    auto p = make({});
    for (int i = 0; i < 3; ++i) {
      const auto s = check_once(*p, io);
      CHECK(s.result == outcome::ok);
      CHECK(s.value == 1.0);
    }
  }
  SECTION("expect compares the first column of the first row") {
    CHECK(check_once(*make({{"query", std::string("SELECT 'primary'")}, {"expect", std::string("primary")}}), io).result == outcome::ok);
    CHECK(check_once(*make({{"query", std::string("SELECT 'replica'")}, {"expect", std::string("primary")}}), io).result ==
          outcome::unexpected_value);
    CHECK(check_once(*make({{"query", std::string("SELECT NULL")}, {"expect", std::string("x")}}), io).result == outcome::unexpected_value);
  }
  SECTION("an SQL error is a protocol_error and the connection stays usable") {
    auto p = make({{"query", std::string("SELECT * FROM no_such_table")}});
    CHECK(check_once(*p, io).result == outcome::protocol_error);
    CHECK(check_once(*p, io).result == outcome::protocol_error);
  }
  SECTION("a slow query times out on time") {
    auto p = make({{"query", std::string("SELECT pg_sleep(10)")}}, 400ms);
    const auto before = probes::clock::now();
    const auto s = check_once(*p, io);
    CHECK(s.result == outcome::timeout);
    CHECK(s.latency >= 400ms);
    CHECK(probes::clock::now() - before < 5s);
  }
  SECTION("a statement_timeout is a timeout") {
    auto p = make({{"query", std::string("SET statement_timeout = 50; SELECT pg_sleep(2)")}});
    CHECK(check_once(*p, io).result == outcome::timeout);
  }
  SECTION("a wrong database is refused at connect") {
    CHECK(check_once(*make({{"database", std::string("nope")}}), io).result == outcome::connect_refused);
  }
}

TEST_CASE("postgres probe times out on a server that accepts and never answers", "[probes]") {
  test::http_test_server silent;
  silent.set_silent(true);
  boost::asio::io_context io;
  auto params = test::probe_params("postgres", {}, 300ms);
  params.set("address", "127.0.0.1:" + std::to_string(silent.port()));
  auto p = test::make_probe("postgres", params, io.get_executor());
  const auto s = check_once(*p, io);
  CHECK(s.result == outcome::timeout);
  CHECK(s.latency >= 300ms);
  CHECK(s.latency < 3s);
}

TEST_CASE("SQLSTATEs map to outcomes", "[probes]") {
  CHECK(outcome_of_sqlstate("53300") == outcome::connect_refused);
  CHECK(outcome_of_sqlstate("57014") == outcome::timeout);
  CHECK(outcome_of_sqlstate("57P01") == outcome::reset);
  CHECK(outcome_of_sqlstate("08006") == outcome::reset);
  CHECK(outcome_of_sqlstate("42P01") == outcome::protocol_error);
}
