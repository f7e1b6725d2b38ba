#pragma once
// The `storm` logger: one named logger for the storm generator, its workers and the fault.

#include <spdlog/logger.h>

#include <memory>

namespace faultline::storm {

std::shared_ptr<spdlog::logger> storm_log();

}  // namespace faultline::storm
