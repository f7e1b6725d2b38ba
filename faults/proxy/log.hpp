#pragma once
// The proxy subsystem's logger ("proxy") and the completion handler every co_spawn of the proxy
// gets, so that no exception escapes unseen.

#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <string>

namespace faultline::proxy {

std::shared_ptr<spdlog::logger> proxy_log();

// For co_spawn: logs an exception that escaped the coroutine `what`.
inline auto log_exception(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      proxy_log()->error("{}: {}", what, x.what());
    } catch (...) {
      proxy_log()->error("{}: unknown exception", what);
    }
  };
}

}  // namespace faultline::proxy
