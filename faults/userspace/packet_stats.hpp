#pragma once
// What the userspace engine did to the packets it saw: counters (sorted, stable snake_case names)
// and the delay it actually applied, for the fault's evidence.

#include "core/histogram.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace faultline::faults::userspace {

struct packet_counters {
  std::uint64_t bytes_seen_total = 0;
  std::uint64_t copies_failed_total = 0;        // duplicates the raw socket could not send
  std::uint64_t held_peak = 0;                  // most packets held at once
  std::uint64_t packets_corrupted_total = 0;
  std::uint64_t packets_delayed_total = 0;      // held for a delay > 0
  std::uint64_t packets_dropped_total = 0;      // lost by the loss model
  std::uint64_t packets_duplicated_total = 0;   // copies sent
  std::uint64_t packets_over_limit_total = 0;   // dropped by the kernel: more than `limit` held
  std::uint64_t packets_released_total = 0;     // accepted (after their delay, or at once)
  std::uint64_t packets_reordered_total = 0;    // sent at once, ahead of the delayed ones
  std::uint64_t packets_seen_total = 0;
  std::uint64_t receive_overruns_total = 0;     // the queue socket overflowed: the kernel dropped packets
  std::uint64_t verdict_datagrams_total = 0;    // netlink datagrams that carried verdicts
  std::uint64_t verdict_errors_total = 0;
};

struct packet_stats {
  packet_counters counters;
  histogram applied_delay;  // arrival at the reader -> verdict, every released original
  histogram lateness;       // verdict - due time, delayed packets only

  nlohmann::json to_json() const;
};

}  // namespace faultline::faults::userspace
