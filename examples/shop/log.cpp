#include "examples/shop/log.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <ctime>

namespace faultline::shop {

std::string format_timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<microseconds>(t.time_since_epoch());
  auto secs = duration_cast<seconds>(since_epoch);
  auto micros = since_epoch - secs;
  if (micros.count() < 0) {  // before 1970: keep the fraction positive
    secs -= seconds(1);
    micros += seconds(1);
  }
  const std::time_t whole = static_cast<std::time_t>(secs.count());
  std::tm utc{};
  gmtime_r(&whole, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micros.count());
}

void log_line(std::string_view subsystem, std::string_view text) {
  static std::mutex mutex;
  std::string line = fmt::format("{} {} ", format_timestamp(std::chrono::system_clock::now()), subsystem);
  for (char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t';
    if (space && !line.empty() && line.back() == ' ') continue;  // "refused\n\tIs the server" -> one space
    line += space ? ' ' : c;
  }
  line += '\n';
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

std::function<void(std::exception_ptr)> log_stray_exception(std::string subsystem, std::string what) {
  return [subsystem = std::move(subsystem), what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log_line(subsystem, fmt::format("{} ended by exception: {}", what, x.what()));
    }
  };
}

std::string quoted_value(std::string_view text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? '\'' : c;
  return out + '"';
}

rate_limited_log::rate_limited_log(std::string subsystem, std::chrono::steady_clock::duration interval)
    : subsystem_(std::move(subsystem)), interval_(interval) {}

void rate_limited_log::write(std::string_view text) {
  std::uint64_t left_out = 0;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (last_ != std::chrono::steady_clock::time_point{} && now - last_ < interval_) {
      ++suppressed_;
      return;
    }
    last_ = now;
    left_out = suppressed_;
    suppressed_ = 0;
  }
  if (left_out == 0)
    log_line(subsystem_, text);
  else
    log_line(subsystem_, fmt::format("{} ({} similar lines left out)", text, left_out));
}

}  // namespace faultline::shop
