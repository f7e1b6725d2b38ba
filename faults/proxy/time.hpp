#pragma once
// The proxy's names for core's steady time: every unit of the data path speaks in these.

#include "core/clock.hpp"

namespace faultline::proxy {

using time_point = clock::time_point;
using duration = clock::duration;

}  // namespace faultline::proxy
