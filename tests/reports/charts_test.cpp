#include "reports/charts.hpp"

#include <catch2/catch.hpp>

using namespace faultline::reports;

TEST_CASE("axis ticks are round numbers covering the data", "[reports]") {
  CHECK(nice_ticks(0.98, 4) == std::vector<double>{0, 0.25, 0.5, 0.75, 1.0});
  CHECK(nice_ticks(203, 3) == std::vector<double>{0, 100, 200, 300});
  CHECK(nice_ticks(0.01, 3) == std::vector<double>{0, 0.005, 0.01});
  CHECK(nice_ticks(0, 4) == std::vector<double>{0, 1});
  for (double max : {0.0013, 0.7, 1.0, 42.0, 999.0, 12345.0}) {
    auto ticks = nice_ticks(max, 4);
    INFO(max);
    CHECK(ticks.front() == 0);
    CHECK(ticks.back() >= max);
    CHECK(ticks.size() <= 5);
  }
}

TEST_CASE("time ticks fall on steps people read", "[reports]") {
  CHECK(time_ticks(60, 10) == std::vector<double>{0, 10, 20, 30, 40, 50, 60});
  CHECK(time_ticks(8, 10) == std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(time_ticks(95, 10) == std::vector<double>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90});
  CHECK(time_ticks(200, 10) == std::vector<double>{0, 30, 60, 90, 120, 150, 180});
  CHECK(time_ticks(3600, 10).size() == 7);  // every 10 minutes
}

TEST_CASE("the linear scale maps both ways round", "[reports]") {
  linear_scale y{0, 2, 200, 20};
  CHECK(y(0) == 200);
  CHECK(y(2) == 20);
  CHECK(y(1) == 110);
}
