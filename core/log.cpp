#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace faultline {

std::shared_ptr<spdlog::logger> logger(std::string_view subsystem, spdlog::level::level_enum initial) {
  static std::mutex mutex;  // spdlog's registry is thread-safe, but get-or-create is two steps
  std::lock_guard lock(mutex);
  const std::string name(subsystem);
  if (auto existing = spdlog::get(name)) return existing;
  auto created = spdlog::stderr_color_mt(name);
  created->set_level(initial);
  return created;
}

void log_exception(spdlog::logger& log, std::string_view what, std::exception_ptr e) noexcept {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    log.error("{}: {}", what, x.what());
  } catch (...) {
    log.error("{}: unknown exception", what);
  }
}

}  // namespace faultline
