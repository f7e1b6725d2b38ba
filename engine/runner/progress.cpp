#include "engine/runner/progress.hpp"

#include "core/units.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include <ostream>

namespace faultline::engine {
namespace {
namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

const char* breaker_name(double v) {
  if (v == 0) return "closed";
  if (v == 1) return "open";
  if (v == 2) return "half-open";
  return "?";
}

std::string clock_text(std::chrono::nanoseconds d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return fmt::format("{}:{:02}", s / 60, s % 60);
}
}  // namespace

progress::progress(std::ostream& out, bool tty, const probes::timeline& t, faultline::clock& time,
                   std::string breaker_series)
    : out_(out), tty_(tty), timeline_(t), time_(time), breaker_series_(std::move(breaker_series)),
      phase_start_(time.now()) {}

void progress::set_phase(std::string name, std::chrono::nanoseconds planned) {
  phase_ = std::move(name);
  planned_ = planned;
  phase_start_ = time_.now();
  if (!tty_) out_ << status_line() << "\n" << std::flush;
}

std::string progress::status_line() const {
  const auto now = time_.now();
  const auto elapsed = now - phase_start_;
  std::string line = fmt::format("[{} {}/{}]", phase_, clock_text(elapsed), clock_text(planned_));
  if (active_) {
    auto names = active_();
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
    line += fmt::format(" faults: {}", list.empty() ? "none" : list);
  }
  // The last full window: samples still in flight are not in it yet.
  const auto current = timeline_.window_of(timeline_.offset_of(now));
  if (current >= 1 && timeline_.has_series("load")) {
    auto w = timeline_.windows("load", timeline_.window_range(current - 1));
    if (!w.empty() && w[0].total() > 0) {
      const double seconds = std::chrono::duration<double>(timeline_.options().window).count();
      line += fmt::format(" | {:.0f} rps p95 {} err {:.1f}%", static_cast<double>(w[0].total()) / seconds,
                          format_duration(std::chrono::duration_cast<std::chrono::microseconds>(w[0].latency.percentile(95))),
                          100.0 * static_cast<double>(w[0].errors()) / static_cast<double>(w[0].total()));
    } else {
      line += " | no responses";
    }
  }
  if (!breaker_series_.empty() && current >= 1) {
    auto w = timeline_.windows(breaker_series_, timeline_.window_range(current - 1));
    if (!w.empty() && w[0].value.count) line += fmt::format(" | breaker {}", breaker_name(w[0].value.last));
  }
  return line;
}

void progress::log(const std::string& line) {
  if (tty_ && drawn_) out_ << "\r\033[2K";
  out_ << line << "\n";
  if (tty_) out_ << status_line();
  drawn_ = tty_;
  out_ << std::flush;
}

asio::awaitable<void> progress::run(event& finished) {
  while (!finished.is_set()) {
    co_await (sleep_for(time_, std::chrono::seconds(1)) || finished.wait());
    if (finished.is_set()) break;
    ++ticks_;
    if (tty_) {
      out_ << "\r\033[2K" << status_line() << std::flush;
      drawn_ = true;
    } else if (ticks_ % 5 == 0) {
      out_ << status_line() << "\n" << std::flush;
    }
  }
}

void progress::finish() {
  if (tty_ && drawn_) out_ << "\r\033[2K" << std::flush;
  drawn_ = false;
}

}  // namespace faultline::engine
