#pragma once
// What happens to each packet, decided the way the kernel's netem decides it (same random model,
// same order of decisions): loss (random with correlation, or Gilbert-Elliott), duplication,
// corruption, reordering by chance and gap, and the delay drawn from netem's distribution tables.
// Pure: no packets, no clock, so tests drive it with a fixed seed.

#include "faults/netem/network_spec.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

namespace faultline::faults::userspace {

// netem's get_crandom(): each value is a weighted mean of a fresh random number and the previous
// value, weighted by the correlation (0: independent).
class correlated_random {
public:
  explicit correlated_random(double correlation = 0);
  std::uint32_t next(std::mt19937& rng);

private:
  std::uint64_t rho_ = 0;  // 0, or correlation scaled to 1..2^32
  std::uint32_t last_ = 0;
};

// A netem probability with its correlation: `happens()` is true with chance p.
class correlated_chance {
public:
  correlated_chance() = default;
  explicit correlated_chance(const network::chance& c);
  bool happens(std::mt19937& rng);

private:
  std::uint32_t threshold_ = 0;  // p scaled to 0..UINT32_MAX as netem scales it; 0: never
  correlated_random random_;
};

// How one packet (or its duplicate) is sent.
struct send_plan {
  std::chrono::nanoseconds delay{0};  // after arrival; 0 for reordered packets
  bool corrupt = false;
  bool reordered = false;  // sent at once, ahead of the delayed ones
};

// The fate of one arriving packet: dropped (no original), sent, and maybe sent twice.
struct packet_fate {
  std::optional<send_plan> original;
  std::optional<send_plan> copy;
};

class impairment_model {
public:
  // `distribution`: netem's table for the spec's distribution (empty: uniform), as
  // load_distribution_table() returns it.
  impairment_model(const network::network_spec& spec, std::vector<std::int16_t> distribution, std::uint32_t seed);

  packet_fate decide();
  // Which bit of an IP payload of `length` bytes to flip (byte offset, bit 0..7). length > 0.
  std::pair<std::size_t, int> corrupt_position(std::size_t length);

  // netem's tabledist(): mu +/- sigma shaped by the table (uniform when empty), correlated.
  static std::chrono::nanoseconds table_delay(std::chrono::nanoseconds mu, std::chrono::nanoseconds sigma,
                                              std::span<const std::int16_t> table, std::uint32_t random);

private:
  bool lost();
  send_plan plan_one();

  std::mt19937 rng_;
  std::chrono::nanoseconds delay_;
  std::chrono::nanoseconds jitter_;
  std::vector<std::int16_t> table_;
  correlated_random delay_random_;

  std::optional<correlated_chance> loss_;
  std::optional<network::gilbert_elliott> gilbert_;
  bool bad_state_ = false;
  std::optional<correlated_chance> duplicate_;
  std::optional<correlated_chance> corrupt_;
  std::optional<correlated_chance> reorder_;
  std::uint32_t gap_ = 0;      // netem's gap: 0 no reordering; 1 by chance only
  std::uint32_t counter_ = 0;  // packets delayed since the last reordered one
};

}  // namespace faultline::faults::userspace
