#pragma once
// Load stages as written: "100/s for 10s", "ramp to 1000/s over 30s", "ramp 10/s to 100/s over
// 5s", "500 users for 30s", "200/s" (holds until the end).

#include "probes/load_shape.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::engine {

// Parses stages in order; a "ramp to" starts from the previous stage's rate. Throws unit_error
// naming the stage and the fix.
probes::load_shape parse_load_stages(const std::vector<std::string>& stages, std::chrono::nanoseconds think_time);

}  // namespace faultline::engine
