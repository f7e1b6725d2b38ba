#pragma once
// redis_delay, redis_error, redis_miss and redis_outage as experiment fault types (they add
// their toxic to a `protocol: redis` proxy), and redis_flush: a destructive, opt-in action that
// runs FLUSHDB on a real server and records how many keys it held before and after.

#include "faults/fault.hpp"

#include <vector>

namespace faultline::protocol::redis {

std::vector<faults::fault_type> redis_fault_types();

}  // namespace faultline::protocol::redis
