#pragma once
// The userspace engine's one named logger ("userspace"), shared by its units.

#include "core/log.hpp"

namespace faultline::faults::userspace {

inline const std::shared_ptr<spdlog::logger>& userspace_log() {
  static const auto userspace = faultline::logger("userspace");
  return userspace;
}

}  // namespace faultline::faults::userspace
