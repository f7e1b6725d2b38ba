#pragma once
// Where a run happened, for the journal: host, kernel, OS, faultline version; and the clock.

#include "reports/journal.hpp"

#include <string>

namespace faultline::engine {

reports::environment_info describe_environment();
std::string iso_time_now();  // "2026-11-25T16:31:48.123Z"

}  // namespace faultline::engine
