#include "engine/units.hpp"

#include <catch2/catch.hpp>

using namespace faultline::engine;
using namespace std::chrono_literals;

TEST_CASE("durations as people write them", "[engine]") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("2m") == 120s);
  CHECK(parse_duration("1m30s") == 90s);
  CHECK(parse_duration("100us") == 100us);
  CHECK(parse_duration("0") == 0s);
  CHECK(parse_duration(" 3h ") == 3h);
  CHECK_THROWS_WITH(parse_duration("800"), Catch::Contains("has no unit"));
  CHECK_THROWS_WITH(parse_duration("-5s"), Catch::Contains("negative"));
  CHECK_THROWS_WITH(parse_duration("5 fortnights"), Catch::Contains("unknown unit 'fortnights'"));
  CHECK_THROWS_AS(parse_duration(""), unit_error);
}

TEST_CASE("rates, fractions, sizes and bandwidths", "[engine]") {
  CHECK(parse_rate("200/s") == Approx(200));
  CHECK(parse_rate("12k/min") == Approx(200));
  CHECK(parse_rate("3600/h") == Approx(1));
  CHECK(parse_rate("1.5k/s") == Approx(1500));
  CHECK_THROWS_WITH(parse_rate("200"), Catch::Contains("no time unit"));

  CHECK(parse_fraction("1%") == Approx(0.01));
  CHECK(parse_fraction("0.5%") == Approx(0.005));
  CHECK(parse_fraction("0.25") == Approx(0.25));
  CHECK_THROWS_WITH(parse_fraction("150%"), Catch::Contains("outside 0%..100%"));
  CHECK_THROWS_WITH(parse_fraction("2"), Catch::Contains("outside 0..1"));

  CHECK(parse_size("64KiB") == 65536);
  CHECK(parse_size("10MB") == 10'000'000);
  CHECK(parse_size("512") == 512);
  CHECK_THROWS_WITH(parse_size("10 parsecs"), Catch::Contains("unknown unit"));

  CHECK(parse_bandwidth("10MB/s") == Approx(10e6));
  CHECK(parse_bandwidth("100Mbit/s") == Approx(12.5e6));
  CHECK(parse_bandwidth("1Gbps") == Approx(125e6));
  CHECK(parse_bandwidth("512KiB/s") == Approx(524288));
  CHECK_THROWS_AS(parse_bandwidth("10MB"), unit_error);
}

TEST_CASE("addresses", "[engine]") {
  auto a = parse_address("127.0.0.1:5432");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 5432);
  auto b = parse_address("[::1]:6379");
  CHECK(b.host == "::1");
  CHECK(b.port == 6379);
  CHECK(parse_address("localhost:80").host == "localhost");
  CHECK_THROWS_WITH(parse_address("127.0.0.1"), Catch::Contains("no port"));
  CHECK_THROWS_WITH(parse_address("::1:80"), Catch::Contains("brackets"));
  CHECK_THROWS_WITH(parse_address("host:99999"), Catch::Contains("0 to 65535"));
}

TEST_CASE("formatting round-trips", "[engine]") {
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(250us) == "250us");
  CHECK(format_duration(0s) == "0s");
  CHECK(format_fraction(0.001) == "0.1%");
  CHECK(format_size(65536) == "64KiB");
  for (auto text : {"250ms", "1.5s", "1m30s", "2h", "750us"})
    CHECK(format_duration(parse_duration(text)) == text);
}

TEST_CASE("measured seconds are rounded for people", "[engine]") {
  CHECK(format_seconds(1.9997564) == "2s");
  CHECK(format_seconds(1.2344) == "1.234s");
  CHECK(format_seconds(0.83721234) == "837.21ms");
  CHECK(format_seconds(0.0000123) == "12us");
  CHECK(format_seconds(0) == "0s");
}
