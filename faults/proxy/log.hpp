#pragma once
// The proxy subsystem's logger ("proxy"): warnings only, unless the proxy daemon raises it.

#include "core/log.hpp"

namespace faultline::proxy {

inline const std::shared_ptr<spdlog::logger>& proxy_log() {
  static const auto log = logger("proxy", spdlog::level::warn);
  return log;
}

}  // namespace faultline::proxy
