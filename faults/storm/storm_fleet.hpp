#pragma once
// The parent side of a storm: splits the storm over worker processes (one generator each, as the
// open-files limit caps every process at 20,000 descriptors), starts and stops them, and sums
// what they report. Workers are spawned when the fleet is made, idle until start(), so their
// pids are known before anything is injected (crash recovery kills them by pid).

#include "faults/storm/storm_config.hpp"
#include "faults/storm/storm_stats.hpp"
#include "faults/storm/worker_process.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace faultline::storm {

class storm_fleet : public std::enable_shared_from_this<storm_fleet> {
public:
  struct options {
    std::string program;  // the faultline binary to run workers from; empty: default_worker_program()
    std::chrono::nanoseconds start_timeout = std::chrono::seconds(10);  // until every worker is ready
    std::chrono::nanoseconds stop_timeout = std::chrono::seconds(10);   // until every worker reported
  };

  // Picks the number of workers and spawns them. The target is resolved (and source addresses
  // chosen) later, by preflight() or start(), so a proxy's address can still be filled in with
  // retarget(). Throws faults::fault_error naming the problem (too many connections per worker,
  // fork failure).
  static std::shared_ptr<storm_fleet> spawn(boost::asio::any_io_executor executor, storm_config config,
                                            options opts);
  static std::shared_ptr<storm_fleet> spawn(boost::asio::any_io_executor executor, storm_config config) {
    return spawn(std::move(executor), std::move(config), options{});
  }

  storm_fleet(const storm_fleet&) = delete;
  storm_fleet& operator=(const storm_fleet&) = delete;
  ~storm_fleet();  // kills workers still running

  // The whole storm (target resolved and source addresses chosen once prepared).
  const storm_config& config() const { return config_; }
  std::vector<process_id> workers() const;

  // Points the storm at another target (a proxy's listen address known only once it runs).
  // Only before start().
  void retarget(std::string host, std::uint16_t port);
  // Resolves the target, chooses source addresses and checks that every worker process came up,
  // without any network traffic to the target. Blocks for at most start_timeout. Throws
  // faults::fault_error (faults::capability_error when workers cannot run) naming the fix.
  void preflight();

  // Prepares as preflight() does, if not done, sends every worker its share and starts them all
  // once all are ready. Throws faults::fault_error when a worker fails to start.
  boost::asio::awaitable<void> start();
  // Asks every worker to close its connections and waits for their final reports; workers that
  // do not answer within stop_timeout are killed. Idempotent.
  boost::asio::awaitable<void> stop();
  // Completes when every worker has ended (a hold with a duration ends by itself).
  boost::asio::awaitable<void> wait_finished();
  bool finished() const;

  // The sum of the workers' latest reports (counts every 100 ms, latencies every second and at
  // the end). peak_held is the highest sum of held connections over those reports.
  storm_report report() const;
  // Worker failures seen so far (crashed, killed, bad output), one line each.
  std::vector<std::string> problems() const { return problems_; }

  // Kills and reaps every worker now, without waiting for reports (abnormal ends only).
  void kill_now();

  // How many workers `config` needs by default: enough for the open-files limit.
  static std::int64_t automatic_workers(const storm_config& config, std::int64_t open_files_limit);
  // Worker `index`'s share of `config` out of `count`.
  static storm_config share_of(const storm_config& config, std::int64_t index, std::int64_t count);

private:
  struct worker;

  storm_fleet(boost::asio::any_io_executor executor, storm_config config, options opts);
  // `self` lives in the frame: the fleet outlives every follow(), even when its owner lets go.
  boost::asio::awaitable<void> follow(std::shared_ptr<storm_fleet> self, std::shared_ptr<worker> w);
  boost::asio::awaitable<void> reap(std::shared_ptr<worker> w);
  boost::asio::awaitable<void> send(worker& w, std::string line);
  // Polls `done` until it holds or the deadline passes; returns whether it holds.
  template <typename Condition>
  boost::asio::awaitable<bool> wait_until(std::chrono::steady_clock::time_point deadline, Condition done);
  void on_message(worker& w, const std::string& line);
  void prepare_target();
  void await_hello();
  std::string exec_hint() const;

  boost::asio::any_io_executor executor_;
  storm_config config_;
  options options_;
  std::vector<std::shared_ptr<worker>> workers_;
  std::vector<std::string> problems_;
  std::int64_t peak_held_ = 0;
  std::chrono::steady_clock::time_point started_at_{};
  std::chrono::steady_clock::time_point ended_at_{};
  bool prepared_ = false;
  bool automatic_sources_ = false;  // chosen by prepare_target(), chosen again after retarget()
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace faultline::storm
