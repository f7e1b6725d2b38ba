// MTTD and MTTR read from where the steady state held, with their resolutions.

#include "engine/analysis/recovery_times.hpp"

#include <catch2/catch.hpp>

using namespace faultline::engine;

TEST_CASE("MTTD: the first moment off steady state after the fault starts", "[engine]") {
  // Steady from 0, broken at 12.34 (samples 20 ms apart), steady again at 21.5.
  const std::vector<truth_change> steady{{0, true, 0}, {12.34, false, 0.02}, {21.5, true, 0.02}};
  const auto d = mttd(steady, 10.0, 20.0);
  REQUIRE(d);
  CHECK(d->seconds == Approx(2.34));
  CHECK(d->resolution == Approx(0.02));
  // Not steady when the fault started: detected at once.
  CHECK(mttd(steady, 13.0, 20.0) == measured_time{0, 0});
  // Steady all through the fault: nothing to detect.
  CHECK_FALSE(mttd(steady, 1.0, 12.0));
  // No data at all is not steady.
  CHECK(mttd({{0, false, 0}}, 5.0, 10.0) == measured_time{0, 0});
}

TEST_CASE("MTTR: the start of the first stretch of stable_for in which the rules hold", "[engine]") {
  const std::vector<truth_change> steady{{0, true, 0},     {12.0, false, 0.02}, {21.25, true, 0.02},
                                         {23.0, false, 0.02}, {23.5, true, 0.01}, {40, false, 0.02}};
  // Reverted at 20: steady from 21.25 but only for 1.75 s; from 23.5 for 16.5 s.
  const auto r = mttr(steady, 20.0, 3.0, 60.0, 50.0);
  REQUIRE(r);
  CHECK(r->seconds == Approx(3.5));
  CHECK(r->resolution == Approx(0.01));
  CHECK(mttr(steady, 20.0, 1.5, 60.0, 50.0)->seconds == Approx(1.25));
  // Not within the timeout.
  CHECK_FALSE(mttr(steady, 20.0, 3.0, 3.0, 50.0));
  // The data ends before the stretch is long enough.
  CHECK_FALSE(mttr(steady, 20.0, 3.0, 60.0, 25.0));
  // Steady at the revert already: 0, counted from the revert.
  CHECK(mttr(steady, 5.0, 3.0, 60.0, 50.0) == measured_time{0, 0});
  // A stretch under way at the revert but too short does not count; the next one does.
  CHECK(mttr(steady, 22.0, 3.0, 60.0, 50.0)->seconds == Approx(1.5));
}
