#pragma once
// The userspace engine's one named logger ("userspace"), shared by its units.

#include <spdlog/spdlog.h>

#include <memory>

namespace faultline::faults::userspace {

inline std::shared_ptr<spdlog::logger> logger() {
  static auto log = [] {
    if (auto existing = spdlog::get("userspace")) return existing;
    auto created = spdlog::default_logger()->clone("userspace");
    spdlog::register_logger(created);
    return created;
  }();
  return log;
}

}  // namespace faultline::faults::userspace
