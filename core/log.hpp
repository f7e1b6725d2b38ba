#pragma once
// One named logger per subsystem ("proxy", "netem", "userspace", "storm", "probes", "load", ...),
// all made the same way, and the one completion handler every co_spawn gets, so that no
// exception escapes a coroutine unseen.

#include <spdlog/logger.h>

#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace faultline {

// The subsystem's logger, made on first use: stderr (in colour on a terminal), lines tagged with
// the subsystem's name. `initial` is its level when this call makes it; later calls leave the
// level alone (the proxy starts at warn and the proxy daemon raises it to info).
std::shared_ptr<spdlog::logger> logger(std::string_view subsystem, spdlog::level::level_enum initial = spdlog::level::info);

// Logs, as an error, the exception `e` that escaped the coroutine `what`; nothing when e is null.
void log_exception(spdlog::logger& log, std::string_view what, std::exception_ptr e) noexcept;

// The completion handler for co_spawn: `co_spawn(ex, task(), log_stray_exception(log, "what"))`.
// Accepts the result of a coroutine that returns a value, and ignores it.
class log_stray_exception {
public:
  log_stray_exception(std::shared_ptr<spdlog::logger> log, std::string what) : log_(std::move(log)), what_(std::move(what)) {}

  template <typename... Result>
  void operator()(std::exception_ptr e, Result&&...) const noexcept {
    if (e) log_exception(*log_, what_, e);
  }

private:
  std::shared_ptr<spdlog::logger> log_;
  std::string what_;
};

}  // namespace faultline
