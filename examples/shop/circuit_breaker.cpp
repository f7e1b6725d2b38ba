#include "examples/shop/circuit_breaker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace faultline::shop {

namespace {

// How a failed call failed; a call that succeeded can only have failed by being slow.
std::string_view failure_name(call_result result) {
  switch (result) {
  case call_result::success: return "slow";
  case call_result::failure: return "error";
  case call_result::timeout: return "timeout";
  }
  return "unknown";
}

}  // namespace

std::string_view to_string(breaker_state state) {
  switch (state) {
  case breaker_state::closed: return "closed";
  case breaker_state::open: return "open";
  case breaker_state::half_open: return "half_open";
  }
  return "unknown";
}

circuit_breaker::circuit_breaker(breaker_config config, listener on_transition)
    : config_(std::move(config)), on_transition_(std::move(on_transition)) {}

circuit_breaker::permit circuit_breaker::try_acquire(clock::time_point now) {
  std::lock_guard lock(mutex_);
  open_after_cooldown(now);
  switch (state_) {
  case breaker_state::closed: return {true, false, epoch_};
  case breaker_state::open: return {false, false, epoch_};
  case breaker_state::half_open:
    if (trials_started_ >= config_.half_open_trials) return {false, false, epoch_};
    ++trials_started_;
    return {true, true, epoch_};
  }
  return {};
}

void circuit_breaker::record(const permit& p, call_result result, clock::duration elapsed,
                             clock::time_point now) {
  const bool slow = config_.slow_call.count() > 0 && elapsed >= config_.slow_call;
  const bool failed = result != call_result::success || slow;
  std::lock_guard lock(mutex_);
  if (!p.allowed || p.epoch != epoch_) return;  // decided in an earlier state: ignore

  if (state_ == breaker_state::half_open) {
    if (failed) {
      move_to(breaker_state::open, now, fmt::format("reason=trial_failed last={}", failure_name(result)));
    } else if (++trials_succeeded_ >= config_.half_open_trials) {
      move_to(breaker_state::closed, now, fmt::format("reason=trials_succeeded trials={}", trials_succeeded_));
    }
    return;
  }
  if (state_ != breaker_state::closed) return;

  failures_in_row_ = failed ? failures_in_row_ + 1 : 0;
  recent_.push_back(failed);
  while (static_cast<int>(recent_.size()) > std::max(config_.window, 1)) recent_.pop_front();
  if (!failed) return;
  if (std::string reason = trip_reason(result); !reason.empty())
    move_to(breaker_state::open, now, std::move(reason));
}

std::string circuit_breaker::trip_reason(call_result last) {
  if (config_.rule == trip_rule::consecutive_failures) {
    if (failures_in_row_ < config_.consecutive_failures) return {};
    return fmt::format("reason=consecutive_failures failures={} last={}", failures_in_row_, failure_name(last));
  }
  const int calls = static_cast<int>(recent_.size());
  if (calls < config_.minimum_calls) return {};
  const auto failures = std::count(recent_.begin(), recent_.end(), true);
  const double rate = static_cast<double>(failures) / calls;
  if (rate < config_.failure_rate) return {};
  return fmt::format("reason=failure_rate failures={} calls={} rate={:.3f} last={}", failures, calls, rate,
                     failure_name(last));
}

void circuit_breaker::poll(clock::time_point now) {
  std::lock_guard lock(mutex_);
  open_after_cooldown(now);
}

void circuit_breaker::open_after_cooldown(clock::time_point now) {
  if (state_ != breaker_state::open || now < open_until_) return;
  move_to(breaker_state::half_open, now,
          fmt::format("reason=cooldown_elapsed cooldown_ms={}",
                      std::chrono::duration_cast<std::chrono::milliseconds>(config_.cooldown).count()));
}

void circuit_breaker::move_to(breaker_state to, clock::time_point now, std::string reason) {
  const breaker_state from = std::exchange(state_, to);
  ++epoch_;
  failures_in_row_ = 0;
  recent_.clear();
  trials_started_ = 0;
  trials_succeeded_ = 0;
  if (to == breaker_state::open) open_until_ = now + config_.cooldown;
  if (on_transition_) on_transition_(breaker_transition{from, to, now, std::move(reason)});
}

breaker_state circuit_breaker::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

circuit_breaker::clock::time_point circuit_breaker::open_until() const {
  std::lock_guard lock(mutex_);
  return open_until_;
}

}  // namespace faultline::shop
