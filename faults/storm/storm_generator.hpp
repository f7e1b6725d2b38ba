#pragma once
// The storm generator of one process: opens connections at a rate (or as fast as a window of
// pending attempts allows), completes the handshake, then holds them or churns them, and classes
// every attempt. One coroutine per connection, all on one io_context thread; timeouts and churn
// lifetimes come from one watchdog over two deadline-ordered lists, not a timer per connection.
// Several processes (storm_fleet) run one each to get past the per-process open-files limit.

#include "faults/storm/handshake.hpp"
#include "faults/storm/storm_config.hpp"
#include "faults/storm/storm_stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace faultline::storm {

class storm_generator : public std::enable_shared_from_this<storm_generator> {
public:
  using clock = std::chrono::steady_clock;

  // `config` is this process's share (connections, rate and max_pending already split); its
  // `address` must be numeric. Throws std::invalid_argument for an unusable address.
  static std::shared_ptr<storm_generator> create(boost::asio::io_context& io, storm_config config);

  storm_generator(const storm_generator&) = delete;
  storm_generator& operator=(const storm_generator&) = delete;
  ~storm_generator();

  // Starts launching. Hold mode with a `hold` ends by itself; otherwise it runs until stop().
  void start();
  // Stops launching, cancels attempts in progress and closes every held connection. Idempotent.
  void stop();
  // Completes once every connection is closed and nothing more will be launched.
  boost::asio::awaitable<void> wait_finished();
  bool finished() const { return finished_; }

  const storm_counts& counts() const { return counts_; }
  // Counts and latency histograms so far (peak_rss_bytes and workers are the caller's to fill).
  storm_report report() const;

private:
  // One connection. Lives in its coroutine's frame; unlinks itself from a list when destroyed.
  struct session : boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
    explicit session(boost::asio::io_context& io) : socket(io) {}
    tcp_socket socket;
    std::optional<websocket_stream> ws;
    clock::time_point deadline{};
    bool expired = false;  // its attempt's deadline passed (the watchdog cancelled it)
    bool closing = false;  // the storm closes it (hold over, churn lifetime, stop)
  };
  using session_list = boost::intrusive::list<session, boost::intrusive::constant_time_size<false>>;

  storm_generator(boost::asio::io_context& io, storm_config config);

  boost::asio::awaitable<void> launch();
  boost::asio::awaitable<void> watch_deadlines();
  boost::asio::awaitable<void> run_session(std::shared_ptr<storm_generator> self, std::size_t source);
  boost::asio::awaitable<connection_outcome> attempt(session& s, std::size_t source);
  boost::asio::awaitable<void> hold(session& s);
  void spawn_session(std::size_t source);
  void attempt_finished();
  void maybe_finish();
  void close_all(session_list& list);
  clock::duration watchdog_tick() const;

  boost::asio::io_context& io_;
  const storm_config config_;
  boost::asio::ip::tcp::endpoint target_;
  std::vector<boost::asio::ip::address> sources_;

  session_list pending_;  // connecting or in the handshake, in deadline order
  session_list held_;     // established, in order of establishment (churn: of their end)
  std::int64_t pending_count_ = 0;
  std::int64_t live_ = 0;      // sessions not yet ended
  std::int64_t launched_ = 0;  // attempts started
  std::int64_t resolved_ = 0;  // attempts with an outcome or cancelled

  boost::asio::steady_timer pace_;      // the launcher's next due time
  boost::asio::steady_timer wake_;      // a slot for the launcher became free
  boost::asio::steady_timer hold_;      // hold mode: the end of the hold
  boost::asio::steady_timer finished_signal_;
  bool started_ = false;
  bool stopping_ = false;
  bool launcher_done_ = false;
  bool finished_ = false;
  bool launcher_waiting_ = false;

  storm_counts counts_;
  histogram connect_latency_;
  histogram handshake_latency_;
  clock::time_point started_at_{};
  clock::time_point ramp_done_at_{};
  clock::time_point finished_at_{};
  std::int64_t local_errors_logged_ = 0;
};

}  // namespace faultline::storm
