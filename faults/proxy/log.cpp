#include "faults/proxy/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace faultline::proxy {

std::shared_ptr<spdlog::logger> proxy_log() {
  static std::once_flag once;
  static std::shared_ptr<spdlog::logger> logger;
  std::call_once(once, [] {
    logger = spdlog::get("proxy");
    if (!logger) {
      logger = spdlog::stderr_color_mt("proxy");
      logger->set_level(spdlog::level::warn);  // the daemon raises it to info
    }
  });
  return logger;
}

}  // namespace faultline::proxy
