#include "core/units.hpp"
#include "engine/load_stages.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using namespace std::chrono_literals;

TEST_CASE("load stages as written", "[engine]") {
  auto shape = engine::parse_load_stages({"100/s for 10s", "ramp to 1000/s over 30s", "1000/s"}, 0s);
  REQUIRE(shape.size() == 3);
  CHECK(shape[0].rate_from == Approx(100));
  CHECK(shape[0].duration == 10s);
  CHECK(shape[1].rate_from == Approx(100));
  CHECK(shape[1].rate_to == Approx(1000));
  CHECK(shape[1].duration == 30s);
  CHECK(shape[2].duration == 0s);
  CHECK(probes::rate_at(shape, 5s) == Approx(100));
  CHECK(probes::rate_at(shape, 25s) == Approx(550));
  CHECK(probes::rate_at(shape, 100s) == Approx(1000));

  auto closed = engine::parse_load_stages({"100 users for 10s", "500 users"}, 50ms);
  CHECK(closed[0].kind == probes::load_stage::model::closed);
  CHECK(closed[1].users == 500);
  CHECK(closed[1].think_time == 50ms);

  CHECK_THROWS_WITH(engine::parse_load_stages({"100/s", "200/s for 1s"}, 0s), Catch::Contains("has no duration but is not the last"));
  CHECK_THROWS_WITH(engine::parse_load_stages({"ramp 1000/s over 30s"}, 0s), Catch::Contains("'to <rate>'"));
  CHECK_THROWS_WITH(engine::parse_load_stages({"fast"}, 0s), Catch::Contains("stage 'fast'"));
}
