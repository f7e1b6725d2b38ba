#pragma once
// Runs one probe on a fixed schedule (intended start times first + k * every) and records each
// sample into its Timeline series. Checks run one at a time: when a check overruns, the slots it
// covered are skipped (counted) and the next check takes the latest due slot, so latency still
// counts from an intended time. A check that outlives its timeout (plus a grace period) is
// cancelled and recorded as a timeout: a probe never hangs the runner.

#include "probes/probe.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace faultline::probes {

struct probe_runner_stats {
  std::uint64_t checks_abandoned_total = 0;  // cancelled by the runner after timeout + grace
  std::uint64_t checks_skipped_total = 0;    // slots passed over because a check overran
  std::uint64_t checks_total = 0;
};

class probe_runner {
public:
  probe_runner(boost::asio::any_io_executor executor, std::unique_ptr<probe> p, std::chrono::nanoseconds every,
               std::chrono::nanoseconds timeout, timeline::recorder series);
  ~probe_runner();
  probe_runner(const probe_runner&) = delete;
  probe_runner& operator=(const probe_runner&) = delete;

  // Starts checking at `first` (now by default); safe to call once.
  void start(clock::time_point first = clock::now());
  // Stops: cancels the wait or the check in progress (not recorded). Returns at once; the runner
  // is done when done() is true. Thread-safe.
  void stop();
  bool done() const { return done_; }
  // The loop itself, for callers that want to co_await it (start() spawns it). Completes after
  // stop() or when `until` passes.
  boost::asio::awaitable<void> run(clock::time_point first, clock::time_point until = clock::time_point::max());

  probe_runner_stats stats() const;

  // Extra time a check gets beyond its timeout before the runner cancels it.
  static constexpr std::chrono::milliseconds grace{500};

private:
  boost::asio::any_io_executor executor_;
  std::unique_ptr<probe> probe_;
  std::chrono::nanoseconds every_;
  std::chrono::nanoseconds timeout_;
  timeline::recorder series_;
  boost::asio::cancellation_signal stop_signal_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> done_{true};
  std::atomic<std::uint64_t> checks_{0};
  std::atomic<std::uint64_t> skipped_{0};
  std::atomic<std::uint64_t> abandoned_{0};
};

}  // namespace faultline::probes
