#include "engine/analysis/breaker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace faultline::engine {

const char* to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "closed";
}

std::vector<breaker_state> states_from_probe(const std::vector<reports::window_point>& windows) {
  std::vector<breaker_state> out;
  auto state = breaker_state::closed;
  for (const auto& w : windows) {
    if (w.value) {
      const double v = *w.value;
      if (std::abs(v - 0) < 1e-9) state = breaker_state::closed;
      else if (std::abs(v - 1) < 1e-9) state = breaker_state::open;
      else if (std::abs(v - 2) < 1e-9) state = breaker_state::half_open;
    }
    out.push_back(state);
  }
  return out;
}

std::vector<breaker_state> states_inferred(const std::vector<reports::window_point>& load) {
  std::vector<breaker_state> out;
  auto state = breaker_state::closed;
  bool saw_slow_failures = false;  // since the breaker was last seen closed and healthy
  for (const auto& w : load) {
    if (w.count > 0) {
      const auto fast = std::min(w.fast_failures, w.errors);
      const auto slow = w.errors - fast;
      const bool dominated = 2 * fast >= w.count;
      const bool rejecting = fast > 0;
      const bool healthy = !rejecting && 20 * w.errors < w.count;  // error rate below 5%
      switch (state) {
        case breaker_state::closed:
          if (dominated && saw_slow_failures) state = breaker_state::open;
          break;
        case breaker_state::open:
          if (!rejecting) state = breaker_state::closed;
          else if (!dominated) state = breaker_state::half_open;
          break;
        case breaker_state::half_open:
          if (!rejecting) state = breaker_state::closed;
          else if (dominated) state = breaker_state::open;
          break;
      }
      if (slow > 0) saw_slow_failures = true;
      else if (state == breaker_state::closed && healthy) saw_slow_failures = false;
    }
    out.push_back(state);
  }
  return out;
}

reports::breaker_record summarize_breaker(const std::vector<breaker_state>& states, double window_seconds,
                                          double fault_start, double last_revert, std::string source) {
  reports::breaker_record r;
  r.source = std::move(source);
  auto previous = breaker_state::closed;
  std::int64_t openings = 0;
  std::optional<double> last_open;
  for (std::size_t i = 0; i < states.size(); ++i) {
    const auto s = states[i];
    if (s == previous) continue;
    const double at = static_cast<double>(i) * window_seconds;
    r.transitions.push_back({at, to_string(previous), to_string(s)});
    if (s == breaker_state::open && previous == breaker_state::closed) {
      ++openings;
      if (!r.time_to_open && at + window_seconds > fault_start) r.time_to_open = std::max(0.0, at - fault_start);
    }
    if (s == breaker_state::open) last_open = at;
    previous = s;
  }
  r.flaps = std::max<std::int64_t>(0, openings - 1);
  if (last_open) {
    for (const auto& t : r.transitions)
      if (t.at > *last_open && t.to == std::string("closed")) {
        r.time_to_close = std::max(0.0, t.at - last_revert);
        break;
      }
  }
  return r;
}

std::string cross_check(const std::vector<breaker_state>& probe, const std::vector<breaker_state>& inferred) {
  const auto n = std::min(probe.size(), inferred.size());
  if (n == 0) return "no windows to compare";
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) same += probe[i] == inferred[i] ? 1 : 0;
  return fmt::format("the state inferred from the load's responses matched the state probe in {:.0f}% of {} windows",
                     100.0 * static_cast<double>(same) / static_cast<double>(n), n);
}

}  // namespace faultline::engine
