#include "faults/storm/storm_log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace faultline::storm {

std::shared_ptr<spdlog::logger> storm_log() {
  static std::once_flag once;
  static std::shared_ptr<spdlog::logger> logger;
  std::call_once(once, [] {
    logger = spdlog::get("storm");
    if (!logger) logger = spdlog::stderr_color_mt("storm");
  });
  return logger;
}

}  // namespace faultline::storm
