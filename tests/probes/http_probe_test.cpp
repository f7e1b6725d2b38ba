#include "probes/http_probe.hpp"
#include "tests/probes/probe_test_params.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;
using test::http_test_reply;
using test::http_test_request;
using test::http_test_server;

namespace {

sample check_once(probe& p, boost::asio::io_context& io) { return test::run_awaitable(io, p.check(probes::clock::now())); }

}  // namespace

TEST_CASE("http probe: status, body and JSON value decide the outcome", "[probes]") {
  http_test_server server([](const http_test_request& r) {
    if (r.target == "/health") return http_test_reply{200, R"({"breaker":{"state":2,"open":true},"name":"x"})"};
    if (r.target == "/broken") return http_test_reply{503, "down"};
    if (r.target == "/missing") return http_test_reply{404, "no"};
    if (r.target == "/echo") return http_test_reply{201, r.method + " " + r.body + " " + r.headers.at("x-run")};
    return http_test_reply{200, "plain text"};
  });
  boost::asio::io_context io;
  auto make = [&](std::initializer_list<std::pair<std::string, param_value>> v) {
    return test::make_probe("http", test::probe_params("http", v), io.get_executor());
  };

  SECTION("2xx is ok by default") {
    auto p = make({{"url", server.url("/health")}});
    const auto s = check_once(*p, io);
    CHECK(s.result == outcome::ok);
    CHECK(s.latency > 0ns);
    CHECK(s.latency < 2s);
    CHECK_FALSE(s.value);
  }
  SECTION("5xx and 4xx are classified") {
    CHECK(check_once(*make({{"url", server.url("/broken")}}), io).result == outcome::http_5xx);
    CHECK(check_once(*make({{"url", server.url("/missing")}}), io).result == outcome::http_4xx);
  }
  SECTION("expect.status makes exactly that status ok") {
    CHECK(check_once(*make({{"url", server.url("/missing")}, {"expect.status", std::int64_t(404)}}), io).result == outcome::ok);
    CHECK(check_once(*make({{"url", server.url("/health")}, {"expect.status", std::int64_t(204)}}), io).result ==
          outcome::unexpected_value);
  }
  SECTION("expect.body_contains") {
    CHECK(check_once(*make({{"url", server.url("/health")}, {"expect.body_contains", std::string("breaker")}}), io).result == outcome::ok);
    CHECK(check_once(*make({{"url", server.url("/health")}, {"expect.body_contains", std::string("nope")}}), io).result ==
          outcome::unexpected_value);
  }
  SECTION("a JSON pointer picks the value") {
    auto s = check_once(*make({{"url", server.url("/health")}, {"value", std::string("/breaker/state")}}), io);
    CHECK(s.result == outcome::ok);
    REQUIRE(s.value);
    CHECK(*s.value == 2.0);
    s = check_once(*make({{"url", server.url("/health")}, {"value", std::string("/breaker/open")}}), io);
    CHECK(s.value == 1.0);
    s = check_once(*make({{"url", server.url("/health")}, {"value", std::string("/name")}}), io);
    CHECK(s.result == outcome::unexpected_value);
    s = check_once(*make({{"url", server.url("/text")}, {"value", std::string("/x")}}), io);
    CHECK(s.result == outcome::unexpected_value);
  }
  SECTION("method, headers and body are sent") {
    auto p = make({{"url", server.url("/echo")},
                   {"method", std::string("POST")},
                   {"body", std::string("hello")},
                   {"headers", std::map<std::string, std::string>{{"X-Run", "r1"}}},
                   {"expect.status", std::int64_t(201)},
                   {"expect.body_contains", std::string("POST hello r1")}});
    CHECK(check_once(*p, io).result == outcome::ok);
  }
}

TEST_CASE("http probe: keep-alive reuses one connection, and can be turned off", "[probes]") {
  http_test_server server;
  boost::asio::io_context io;
  auto kept = test::make_probe("http", test::probe_params("http", {{"url", server.url("/")}}), io.get_executor());
  for (int i = 0; i < 3; ++i) CHECK(check_once(*kept, io).result == outcome::ok);
  CHECK(server.connections() == 1);
  auto fresh = test::make_probe("http", test::probe_params("http", {{"url", server.url("/")}, {"keep_alive", false}}), io.get_executor());
  for (int i = 0; i < 3; ++i) CHECK(check_once(*fresh, io).result == outcome::ok);
  CHECK(server.connections() == 4);
  CHECK(server.requests() == 6);
}

TEST_CASE("http probe: a server that closed an idle keep-alive connection is retried once", "[probes]") {
  http_test_reply dropping;
  dropping.drop = true;
  http_test_server server([dropping](const http_test_request&) { return dropping; });
  boost::asio::io_context io;
  auto p = test::make_probe("http", test::probe_params("http", {{"url", server.url("/")}}), io.get_executor());
  for (int i = 0; i < 3; ++i) CHECK(check_once(*p, io).result == outcome::ok);
  CHECK(server.connections() == 3);
}

TEST_CASE("http probe: timeouts fire on a server that accepts and never answers", "[probes]") {
  http_test_server server([](const http_test_request&) { return http_test_reply{200, "", {}, {}, true}; });
  boost::asio::io_context io;
  auto p = test::make_probe("http", test::probe_params("http", {{"url", server.url("/")}}, 300ms), io.get_executor());
  const auto before = probes::clock::now();
  const auto s = check_once(*p, io);
  CHECK(s.result == outcome::timeout);
  CHECK(s.latency >= 300ms);
  CHECK(probes::clock::now() - before < 3s);  // generous: the machine may be busy

  server.set_silent(true);  // accepts, never reads
  CHECK(check_once(*p, io).result == outcome::timeout);
}

TEST_CASE("http probe: a closed port is connect_refused", "[probes]") {
  std::uint16_t port;
  {
    http_test_server gone;
    port = gone.port();
  }
  boost::asio::io_context io;
  auto p = test::make_probe("http", test::probe_params("http", {{"url", "http://127.0.0.1:" + std::to_string(port) + "/"}}),
                            io.get_executor());
  CHECK(check_once(*p, io).result == outcome::connect_refused);
}

TEST_CASE("http probe: bad URLs and pointers are parameter errors", "[probes]") {
  auto error_of = [](std::initializer_list<std::pair<std::string, param_value>> v) {
    try {
      (void)http_probe_config::from(test::probe_params("http", v));
    } catch (const param_error& e) {
      return e.param() + ": " + e.what();
    }
    return std::string("no error");
  };
  CHECK(error_of({{"url", std::string("https://x/")}}) ==
        "url: 'https://x/' is not a usable URL: https is not supported; probes and load speak plain HTTP (write "
        "http://host:port/path, e.g. http://127.0.0.1:8080/health)");
  CHECK(error_of({{"url", std::string("127.0.0.1:80/")}}).starts_with("url: '127.0.0.1:80/' is not a usable URL: it must start with http://"));
  CHECK(error_of({{"url", std::string("http://h:99999/")}}).starts_with("url: 'http://h:99999/' is not a usable URL: the port must be"));
  CHECK(error_of({{"url", std::string("http://h/")}, {"value", std::string("breaker")}}) ==
        "value: 'breaker' is not a JSON pointer (write it like /breaker/state or /items/0/count)");
}

TEST_CASE("URLs parse into host, port and target", "[probes]") {
  auto u = parse_http_url("http://127.0.0.1:8080/orders/42?x=1");
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == "8080");
  CHECK(u.target == "/orders/42?x=1");
  u = parse_http_url("http://[::1]:9000");
  CHECK(u.host == "::1");
  CHECK(u.target == "/");
  CHECK(u.authority() == "[::1]:9000");
  u = parse_http_url("http://localhost?q");
  CHECK(u.port == "80");
  CHECK(u.target == "/?q");
  CHECK(u.authority() == "localhost");
}
