#include "core/address.hpp"

#include <catch2/catch.hpp>

using namespace faultline;

TEST_CASE("addresses: IPv4, bracketed IPv6 and names", "[core]") {
  auto a = parse_address("127.0.0.1:5432");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 5432);
  auto b = parse_address("[::1]:6379");
  CHECK(b.host == "::1");
  CHECK(b.port == 6379);
  CHECK(parse_address("localhost:80").host == "localhost");
  CHECK(parse_address(" 127.0.0.1:80 ").port == 80);
  CHECK_THROWS_WITH(parse_address("127.0.0.1"), Catch::Contains("no port"));
  CHECK_THROWS_WITH(parse_address("::1:80"), Catch::Contains("brackets"));
  CHECK_THROWS_WITH(parse_address("host:99999"), Catch::Contains("0 to 65535"));
  CHECK_THROWS_WITH(parse_address("[::1:5432"), Catch::Contains("missing ']'"));
  CHECK_THROWS_WITH(parse_address(":80"), Catch::Contains("host is empty"));
}

TEST_CASE("addresses: port 0 and an empty host only where faultline listens", "[core]") {
  CHECK_THROWS_WITH(parse_address("127.0.0.1:0"), Catch::Contains("only a listen address"));
  CHECK(parse_address("127.0.0.1:0", listen_address).port == 0);
  CHECK(parse_address(":8474", listen_address).host.empty());
  try {
    parse_address("local373", listen_address);
    FAIL("no error");
  } catch (const address_error& e) {
    CHECK(e.why() == address_error::reason::missing_port);
  }
}

TEST_CASE("host:port targets parse, anything else names a proxy", "[core]") {
  CHECK(parse_address("127.0.0.1:5432") == address{"127.0.0.1", 5432});
  CHECK(parse_address("[::1]:6379") == address{"::1", 6379});
  CHECK(parse_address("localhost:80") == address{"localhost", 80});
  CHECK_THROWS_AS(parse_address("postgres"), address_error);
  CHECK_THROWS_AS(parse_address("127.0.0.1:0"), address_error);
  CHECK_THROWS_AS(parse_address("127.0.0.1:65536"), address_error);
  CHECK_THROWS_AS(parse_address("::1:80"), address_error);
}

TEST_CASE("addresses print as they parse", "[core]") {
  CHECK(address{"127.0.0.1", 5432}.to_string() == "127.0.0.1:5432");
  CHECK(address{"::1", 6379}.to_string() == "[::1]:6379");
  CHECK(parse_address(address{"::1", 6379}.to_string()) == address{"::1", 6379});
}
