#pragma once
// A circuit breaker around one dependency. Closed: calls go through and their results are
// counted; too many failures open it. Open: calls are refused at once until a cool-down has
// passed, then it is half-open. Half-open: a few trial calls go through; if they all succeed it
// closes, if one fails it opens again. Time is passed in, so tests drive it with a manual clock.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace faultline::shop {

// The numbers are those of the shop_breaker_state gauge.
enum class breaker_state : int { closed = 0, open = 1, half_open = 2 };
std::string_view to_string(breaker_state state);

// What makes a closed breaker open.
enum class trip_rule {
  consecutive_failures,  // `consecutive_failures` failed calls in a row
  failure_rate,          // at least `failure_rate` of the last `window` calls failed
};

struct breaker_config {
  trip_rule rule = trip_rule::consecutive_failures;
  int consecutive_failures = 5;
  double failure_rate = 0.5;
  int window = 20;         // failure_rate: how many recent calls are judged
  int minimum_calls = 10;  // failure_rate: no verdict on fewer calls than this
  std::chrono::nanoseconds slow_call{0};  // a success at least this slow counts as a failure; 0 = off
  std::chrono::nanoseconds cooldown = std::chrono::seconds(5);
  int half_open_trials = 3;  // successful trials needed to close; also the most let through at once
};

enum class call_result { success, failure, timeout };

struct breaker_transition {
  breaker_state from;
  breaker_state to;
  std::chrono::steady_clock::time_point at;
  std::string reason;  // space-separated key=value words, e.g. "reason=consecutive_failures failures=5"
};

class circuit_breaker {
public:
  using clock = std::chrono::steady_clock;
  // Called for every transition, in order, with the breaker's lock held: it must not call back
  // into the breaker.
  using listener = std::function<void(const breaker_transition&)>;

  // Leave to make one call. `epoch` ties the call's result to the state it was allowed in, so a
  // slow call that started before a transition cannot decide the state after it.
  struct permit {
    bool allowed = false;
    bool trial = false;
    std::uint64_t epoch = 0;
  };

  circuit_breaker(breaker_config config, listener on_transition);

  permit try_acquire(clock::time_point now);
  void record(const permit& p, call_result result, clock::duration elapsed, clock::time_point now);
  // Moves an open breaker whose cool-down is over to half-open (also done lazily by try_acquire).
  void poll(clock::time_point now);

  breaker_state state() const;
  clock::time_point open_until() const;  // meaningful while open
  const breaker_config& config() const { return config_; }

private:
  void move_to(breaker_state to, clock::time_point now, std::string reason);
  void open_after_cooldown(clock::time_point now);
  std::string trip_reason(call_result last);  // empty unless the closed breaker must open

  const breaker_config config_;
  const listener on_transition_;
  mutable std::mutex mutex_;
  breaker_state state_ = breaker_state::closed;
  std::uint64_t epoch_ = 0;
  clock::time_point open_until_{};
  int failures_in_row_ = 0;
  std::deque<bool> recent_;  // failure_rate: true = failed, newest at the back
  int trials_started_ = 0;
  int trials_succeeded_ = 0;
};

}  // namespace faultline::shop
