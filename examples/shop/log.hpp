#pragma once
// The shop's log: one line per event on stdout, `<UTC timestamp with microseconds> <subsystem>
// <words>`, flushed at once, so breaker transitions can be compared with faultline's measurements.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace faultline::shop {

// "2026-11-25T16:31:48.123456Z"
std::string format_timestamp(std::chrono::system_clock::time_point t);

// Writes "<timestamp> <subsystem> <text>\n" to stdout and flushes; safe from any thread.
// Line breaks in `text` become spaces: one event, one line.
void log_line(std::string_view subsystem, std::string_view text);

// Completion handler for co_spawn: a coroutine that ends by exception says so in the log
// ("<subsystem> <what> ended by exception: ...").
std::function<void(std::exception_ptr)> log_stray_exception(std::string subsystem, std::string what);

// A free-text value for a key="value" word: in double quotes, inner double quotes made single.
std::string quoted_value(std::string_view text);

// A log for hot paths: at most one line per interval, telling how many were left out meanwhile.
class rate_limited_log {
public:
  explicit rate_limited_log(std::string subsystem,
                            std::chrono::steady_clock::duration interval = std::chrono::seconds(1));
  void write(std::string_view text);

private:
  std::string subsystem_;
  std::chrono::steady_clock::duration interval_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t suppressed_ = 0;
};

}  // namespace faultline::shop
