#include "engine/runner/live_checks.hpp"

#include "engine/analysis/rule_eval.hpp"
#include "engine/runner/observation.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace faultline::engine {

live_checks::live_checks(const experiment& x, const probes::timeline& t, std::chrono::nanoseconds settle)
    : x_(x), timeline_(t), settle_(settle) {}

std::int64_t live_checks::complete_windows(std::chrono::nanoseconds now) const {
  const auto width = window();
  if (now < settle_ + width) return 0;
  return (now - settle_) / width;
}

std::chrono::nanoseconds live_checks::complete_at(std::int64_t index) const { return (index + 1) * window() + settle_; }

std::int64_t live_checks::windows_for(std::chrono::nanoseconds d) const {
  const auto width = window();
  return std::max<std::int64_t>(1, (d + width - std::chrono::nanoseconds(1)) / width);
}

series_windows live_checks::windows_until(std::int64_t end) const {
  series_windows out;
  const double width = std::chrono::duration<double>(window()).count();
  for (const auto& name : timeline_.series_names()) {
    auto& points = out[name];
    auto recorded = timeline_.windows(name, probes::time_range{std::chrono::nanoseconds(0), end * window()});
    for (std::int64_t i = 0; i < end; ++i) {
      if (i < static_cast<std::int64_t>(recorded.size())) {
        points.push_back(to_point(recorded[static_cast<std::size_t>(i)], width));
      } else {
        reports::window_point empty;
        empty.start = static_cast<double>(i) * width;
        points.push_back(empty);
      }
    }
  }
  return out;
}

std::optional<std::int64_t> live_checks::steady_run(std::int64_t from_window, std::int64_t needed,
                                                    std::chrono::nanoseconds now) const {
  const auto end = complete_windows(now);
  if (end - from_window < needed) return std::nullopt;
  const auto series = windows_until(end);
  const double width = std::chrono::duration<double>(window()).count();
  std::int64_t run = 0;
  for (auto i = std::max<std::int64_t>(0, from_window); i < end; ++i) {
    run = window_steady(x_.steady_state.require, series, static_cast<std::size_t>(i), width) ? run + 1 : 0;
    if (run >= needed) return i + 1 - needed;
  }
  return std::nullopt;
}

std::optional<std::string> live_checks::last_broken_rule(std::int64_t from_window, std::chrono::nanoseconds now) const {
  const auto end = complete_windows(now);
  const auto series = windows_until(end);
  const double width = std::chrono::duration<double>(window()).count();
  for (auto i = end - 1; i >= std::max<std::int64_t>(0, from_window); --i)
    if (auto broken = first_broken_rule(x_.steady_state.require, series, static_cast<std::size_t>(i), width))
      return broken;
  return std::nullopt;
}

std::optional<std::string> live_checks::abort_rule(std::int64_t from_window, std::chrono::nanoseconds now) const {
  if (x_.abort_when.empty()) return std::nullopt;
  const auto end = complete_windows(now);
  if (end <= from_window) return std::nullopt;
  const auto series = windows_until(end);
  const double width = std::chrono::duration<double>(window()).count();
  for (const auto& r : x_.abort_when) {
    auto it = series.find(r.series);
    if (it == series.end()) continue;
    // The rule's `for` may not reach back before `from_window`.
    if (r.sustained && end - from_window < windows_for(*r.sustained)) continue;
    if (holds_sustained(r, it->second, static_cast<std::size_t>(end - 1), width)) return r.text;
  }
  return std::nullopt;
}

boost::asio::awaitable<void> watch_abort_rules(run_control& control, const live_checks& checks,
                                               clock::time_point timeline_start, std::int64_t from_window) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto& abort = control.abort();
  auto& finished = control.finished();
  while (!abort.is_set() && !finished.is_set()) {
    co_await (sleep_for(control.time(), checks.window() / 2) || abort.wait() || finished.wait());
    if (abort.is_set() || finished.is_set()) break;
    if (auto rule = checks.abort_rule(from_window, control.now() - timeline_start))
      control.request_abort(fmt::format("abort_when \"{}\"", *rule));
  }
}

}  // namespace faultline::engine
