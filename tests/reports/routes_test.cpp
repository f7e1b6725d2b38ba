#include "reports/routes.hpp"

#include <catch2/catch.hpp>

using namespace faultline::reports;

TEST_CASE("route counts come from an HTTP fault's evidence, busiest route first", "[reports]") {
  evidence_record e{true, "", nlohmann::json::parse(R"json({"seen": 12, "routes": {
      "GET /a": {"seen": 2, "matched": 2, "affected": 1},
      "(other)": {"seen": 9, "matched": 0, "affected": 0},
      "GET /b": {"seen": 1},
      "broken": 7}})json")};
  const auto routes = route_counts(e);
  REQUIRE(routes.size() == 3);  // a route that is not an object is left out
  CHECK(routes[0].route == "(other)");
  CHECK(routes[1].route == "GET /a");
  CHECK(routes[1].seen == 2);
  CHECK(routes[1].matched == 2);
  CHECK(routes[1].affected == 1);
  CHECK(routes[2].route == "GET /b");
  CHECK(routes[2].matched == 0);  // a count it lacks is 0
}

TEST_CASE("a fault without routes in its evidence has no route counts", "[reports]") {
  CHECK(route_counts(evidence_record{}).empty());
  CHECK(route_counts(evidence_record{true, "", nlohmann::json::parse(R"({"routes": [1, 2]})")}).empty());
}
