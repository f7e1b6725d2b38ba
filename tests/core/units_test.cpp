#include "core/units.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using namespace std::chrono_literals;

TEST_CASE("durations as people write them", "[core]") {
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

TEST_CASE("rates, fractions, sizes and bandwidths", "[core]") {
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

TEST_CASE("formatting round-trips", "[core]") {
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(250us) == "250us");
  CHECK(format_duration(0s) == "0s");
  CHECK(format_fraction(0.001) == "0.1%");
  CHECK(format_size(65536) == "64KiB");
  for (auto text : {"250ms", "1.5s", "1m30s", "2h", "750us"})
    CHECK(format_duration(parse_duration(text)) == text);
}

TEST_CASE("configured values parse back to exactly the value they were formatted from", "[core]") {
  using std::chrono::nanoseconds;
  CHECK(format_duration(nanoseconds(86'400'001'000'000)) == "86400.001s");
  CHECK(format_duration(nanoseconds(1'500'000'001)) == "1.500000001s");
  for (std::int64_t ns : {1LL, 999LL, 1'001LL, 1'234'567LL, 1'500'000'001LL, 59'999'999'999LL, 86'400'001'000'000LL, 3'600'000'000'000LL})
    CHECK(parse_duration(format_duration(nanoseconds(ns))) == nanoseconds(ns));
  for (double bps : {100000.001e6, 12.5e6, 1234.5, 0.25, 1e3, 7e9})
    CHECK(parse_bandwidth(format_bandwidth(bps)) == bps);
  for (double rate : {200.0, 1523.0, 0.1, 1e-7, 33.333333333333336, 1e15})
    CHECK(parse_rate(format_rate(rate)) == rate);
  for (double f : {0.001, 0.1, 0.07, 1.0 / 3.0, 1e-9, 0.999})
    CHECK(parse_fraction(format_fraction(f)) == f);
}

TEST_CASE("durations are written as people read them", "[core]") {
  struct row {
    double seconds;
    std::string text;
  };
  for (const auto& [s, text] : std::vector<row>{{0, "0s"}, {0.000042, "42µs"}, {0.0123, "12.3ms"}, {0.8, "800ms"}, {0.9996, "1s"},
                                                {1, "1s"}, {1.5, "1.5s"}, {12.345, "12.3s"}, {59.9, "59.9s"}, {60, "1m"}, {95, "1m35s"},
                                                {3720, "1h02m"}, {7200, "2h"}, {-2, "-2s"}}) {
    INFO(s);
    CHECK(format_seconds(s) == text);
  }
  CHECK(format_seconds(std::optional<double>{}) == "—");
}

TEST_CASE("percentages never round a partial value to 0% or 100%", "[core]") {
  struct row {
    double fraction;
    std::string text;
  };
  for (const auto& [f, text] : std::vector<row>{{0, "0%"}, {1, "100%"}, {0.032, "3.2%"}, {0.5, "50%"}, {0.9995, "99.95%"}, {0.999, "99.9%"},
                                                {0.99999, "99.999%"}, {0.00001, "0.001%"}, {0.0083, "0.83%"}, {0.25, "25%"}}) {
    INFO(f);
    CHECK(format_percent(f) == text);
  }
}

TEST_CASE("measured seconds are rounded for people", "[core]") {
  CHECK(format_seconds(1.9997564) == "2s");
  CHECK(format_seconds(1.2344) == "1.23s");
  CHECK(format_seconds(0.83721234) == "837ms");
  CHECK(format_seconds(0.0000123) == "12.3µs");
  CHECK(format_seconds(0) == "0s");
}

TEST_CASE("measured rates, counts and numbers", "[core]") {
  CHECK(format_measured_rate(198.4) == "198/s");
  CHECK(format_measured_rate(15200) == "15.2k/s");
  CHECK(format_measured_rate(0.5) == "0.5/s");
  CHECK(format_count(18734112) == "18,734,112");
  CHECK(format_number(2.50) == "2.5");
}
