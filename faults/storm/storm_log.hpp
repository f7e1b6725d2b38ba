#pragma once
// The `storm` logger: one named logger for the storm generator, its workers and the fault.

#include "core/log.hpp"

namespace faultline::storm {

inline const std::shared_ptr<spdlog::logger>& storm_log() {
  static const auto log = logger("storm");
  return log;
}

}  // namespace faultline::storm
