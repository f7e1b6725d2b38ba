#pragma once
// Time, injectable so that toxics, the runner and analysis can be tested without sleeping: the
// process's steady clock with Asio timers, and a manual clock that tests advance by hand.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace faultline {

class alarm;

class clock {
public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  virtual ~clock() = default;
  virtual time_point now() const = 0;
  virtual std::unique_ptr<alarm> make_alarm(boost::asio::any_io_executor executor) = 0;
};

// One pending wake-up. set() replaces the previous one; `fire` runs on the alarm's executor,
// never inside set() or cancel(). Destroying the alarm cancels it.
class alarm {
public:
  virtual ~alarm() = default;
  virtual void set(clock::time_point at, std::function<void()> fire) = 0;
  virtual void cancel() = 0;
};

// std::chrono::steady_clock and asio::steady_timer.
std::shared_ptr<clock> steady_clock();

// Waits on `time` until `at` (returns at once when it has passed). Cancellable, so it can race
// other waits: `co_await (sleep_until(time, at) || stop.wait())`.
boost::asio::awaitable<void> sleep_until(clock& time, clock::time_point at);
boost::asio::awaitable<void> sleep_for(clock& time, clock::duration d);

// Time that moves only when advance() is called. Alarms that come due are posted to their
// executors, so a test advances the clock and then polls its io_context.
class manual_clock final : public clock {
public:
  manual_clock();
  time_point now() const override;
  void advance(duration by);
  std::unique_ptr<alarm> make_alarm(boost::asio::any_io_executor executor) override;
  // The earliest time a pending alarm is set for: a test jumps from one to the next.
  std::optional<time_point> next_alarm() const;

private:
  class manual_alarm;
  void fire_due();

  mutable std::mutex mutex_;
  time_point now_;
  std::vector<manual_alarm*> alarms_;
};

}  // namespace faultline
