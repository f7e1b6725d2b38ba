#pragma once
// The userspace engine's packet path: a thread inside the fault's network namespace runs one Asio
// loop that reads the NFQUEUE socket (a posix::stream_descriptor), decides each packet's fate
// (impairment_model), holds delayed packets in a release_schedule with one timer for the earliest,
// and sends verdicts many to a datagram. Duplicates are sent through a raw socket.

#include "faults/userspace/impairment.hpp"
#include "faults/userspace/nfqueue_socket.hpp"
#include "faults/userspace/packet_stats.hpp"
#include "faults/userspace/release_schedule.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace faultline::faults::userspace {

struct loop_settings {
  std::string netns;            // where the queue is; faultline's own when empty
  bool keep_order = false;      // jittered packets leave in arrival order
  bool whole_packet = false;    // copy payloads (needed to corrupt and duplicate)
  std::uint32_t limit = 1000;   // packets held at once, as netem's limit
  std::uint32_t copy_mark = 0;  // SO_MARK of duplicates, so the rules let them pass
  int realtime_priority = 10;   // SCHED_FIFO priority of the loop thread; 0: normal scheduling
};

class packet_loop {
public:
  packet_loop(impairment_model model, loop_settings settings);
  packet_loop(const packet_loop&) = delete;
  packet_loop& operator=(const packet_loop&) = delete;
  ~packet_loop();  // stop()

  // Starts the thread and binds the first queue number in `candidates` that no other program has
  // bound; returns it. Throws fault_error (nothing left running).
  std::uint16_t start(const std::vector<std::uint16_t>& candidates);

  // Accepts every held packet now, keeps accepting arrivals at once until none came for `quiet`
  // (at most 1 s), then unbinds the queue and joins the thread. Call after the rules that feed
  // the queue are gone. Idempotent.
  void stop(std::chrono::milliseconds quiet = std::chrono::milliseconds(20));

  bool running() const { return thread_.joinable(); }
  // How the loop thread is scheduled ("SCHED_FIFO 10", or normal and why); set by start().
  const std::string& scheduling() const { return scheduling_; }
  packet_stats stats() const;

private:
  void run(const std::vector<std::uint16_t>& candidates, std::promise<std::uint16_t>& bound);
  boost::asio::awaitable<void> read_packets();
  boost::asio::awaitable<void> release_packets();
  boost::asio::awaitable<void> watch_kernel_counters();
  boost::asio::awaitable<void> drain(std::chrono::milliseconds quiet);
  void on_readable();
  void handle(const queued_packet& p, packet_clock::time_point now);
  void hold(held_packet p);
  // may_batch: from the schedule, in arrival order, so a batch verdict may cover it.
  void release(held_packet& p, packet_clock::time_point now, bool may_batch);
  void release_due(packet_clock::time_point now);
  void send_copy(const std::vector<std::uint8_t>& packet);
  void read_kernel_counters();
  void publish();

  impairment_model model_;
  loop_settings settings_;
  std::thread thread_;
  std::string scheduling_;

  // Owned by the loop thread.
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<nfqueue_socket> queue_;
  std::optional<boost::asio::posix::stream_descriptor> readable_;
  std::optional<boost::asio::steady_timer> timer_;
  release_schedule schedule_;
  int raw4_ = -1;
  int raw6_ = -1;
  bool draining_ = false;
  bool stopped_ = false;
  packet_clock::time_point last_arrival_{};
  std::vector<queued_packet> received_;
  std::vector<held_packet> due_;
  std::vector<std::chrono::nanoseconds> applied_samples_;
  std::vector<std::chrono::nanoseconds> lateness_samples_;
  packet_counters live_;
  std::optional<std::uint32_t> batch_up_to_;  // keep_order: plain accepts folded into one batch verdict

  mutable std::mutex stats_mutex_;
  packet_stats published_;
};

}  // namespace faultline::faults::userspace
