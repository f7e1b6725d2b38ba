#include "probes/tcp_probe.hpp"
#include "tests/probes/probe_test_params.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace faultline;
using namespace faultline::probes;

TEST_CASE("tcp probe connects or is refused", "[probes]") {
  std::uint16_t closed_port;
  {
    test::http_test_server gone;
    closed_port = gone.port();
  }
  test::http_test_server server;
  boost::asio::io_context io;
  auto check = [&](const std::string& address) {
    auto p = test::probe_params("tcp", {});
    p.set("address", address);
    return test::run_awaitable(io, test::make_probe("tcp", p, io.get_executor())->check(probes::clock::now()));
  };
  CHECK(check("127.0.0.1:" + std::to_string(server.port())).result == outcome::ok);
  CHECK(check("localhost:" + std::to_string(server.port())).result == outcome::ok);
  CHECK(check("127.0.0.1:" + std::to_string(closed_port)).result == outcome::connect_refused);
  CHECK_THROWS_AS(faultline::parse_address("nohost"), std::invalid_argument);
  CHECK(faultline::parse_address("[::1]:80").host == "::1");
}
