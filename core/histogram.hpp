#pragma once
// Latency histograms: a log-linear (HDR-style) layout from 1 us to 1 h at 3 significant digits.
// `histogram` is dense and records in constant time without allocating; `compact_histogram` keeps
// only the non-empty buckets, for the many closed windows of a Timeline.

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace faultline {

// The bucket layout shared by both histogram forms. Values are microseconds; within each power
// of two the range is split into 1024 equal steps, so any recorded value is known to within
// 1 part in 1024 (better than 3 significant digits). Values below 1 us count as 0, above 1 h
// as 1 h (min, max and mean stay exact).
namespace histogram_layout {
inline constexpr std::int64_t highest_us = 3'600'000'000;  // 1 h
inline constexpr int sub_bucket_half_magnitude = 10;
inline constexpr std::int64_t sub_bucket_half = std::int64_t{1} << sub_bucket_half_magnitude;  // 1024
inline constexpr std::int64_t sub_bucket_count = 2 * sub_bucket_half;                         // 2048
inline constexpr int bucket_count = 22;  // 2048 << 21 > 1 h in us
inline constexpr std::size_t index_count = static_cast<std::size_t>((bucket_count + 1) * sub_bucket_half);

constexpr int bucket_of(std::int64_t us) {
  const auto v = static_cast<std::uint64_t>(us) | static_cast<std::uint64_t>(sub_bucket_count - 1);
  return 63 - __builtin_clzll(v) - sub_bucket_half_magnitude;
}

// The counts slot of a value in microseconds (clamped to 0 .. highest_us).
constexpr std::size_t index_of(std::int64_t us) {
  if (us < 0) us = 0;
  if (us > highest_us) us = highest_us;
  const int bucket = bucket_of(us);
  const std::int64_t sub = us >> bucket;
  return static_cast<std::size_t>((static_cast<std::int64_t>(bucket) << sub_bucket_half_magnitude) + sub);
}

// The smallest value (us) counted in a slot, and the width of the slot.
constexpr std::int64_t lowest_of(std::size_t index) {
  int bucket = static_cast<int>(index >> sub_bucket_half_magnitude) - 1;
  std::int64_t sub = static_cast<std::int64_t>(index & static_cast<std::size_t>(sub_bucket_half - 1)) + sub_bucket_half;
  if (bucket < 0) {
    sub -= sub_bucket_half;
    bucket = 0;
  }
  return sub << bucket;
}
constexpr std::int64_t width_of(std::size_t index) {
  const int bucket = static_cast<int>(index >> sub_bucket_half_magnitude) - 1;
  return std::int64_t{1} << (bucket < 0 ? 0 : bucket);
}
constexpr std::int64_t highest_of(std::size_t index) { return lowest_of(index) + width_of(index) - 1; }
}  // namespace histogram_layout

class compact_histogram;

// Summary figures shared by both forms; all in nanoseconds.
struct histogram_totals {
  std::uint64_t count = 0;
  std::int64_t min_ns = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_ns = 0;
  std::uint64_t sum_ns = 0;  // overflows only past ~584 years of summed latency

  void add(std::int64_t ns, std::uint64_t n) {
    count += n;
    if (ns < min_ns) min_ns = ns;
    if (ns > max_ns) max_ns = ns;
    sum_ns += static_cast<std::uint64_t>(ns) * n;
  }
  void add(const histogram_totals& other);
  friend bool operator==(const histogram_totals&, const histogram_totals&) = default;
};

class histogram {
public:
  histogram();  // allocates the counts once (about 184 KiB)

  // Constant time, no allocation. Negative latencies count as 0.
  void record(std::chrono::nanoseconds latency, std::uint64_t n = 1) noexcept {
    const std::int64_t ns = latency.count() < 0 ? 0 : latency.count();
    counts_[histogram_layout::index_of(ns / 1000)] += n;
    totals_.add(ns, n);
  }

  void merge(const histogram& other);
  void merge(const compact_histogram& other);
  void reset() noexcept;

  std::uint64_t count() const noexcept { return totals_.count; }
  bool empty() const noexcept { return totals_.count == 0; }
  std::chrono::nanoseconds min() const noexcept;
  std::chrono::nanoseconds max() const noexcept;
  std::chrono::nanoseconds mean() const noexcept;
  // The value below which `percent` % of the samples fall (0..100), as the top of its slot
  // (never under-reporting), clamped to [min, max]. 0 when empty.
  std::chrono::nanoseconds percentile(double percent) const noexcept;
  // How many samples are >= `threshold` (to slot precision: values in the threshold's own slot
  // count when the slot's top reaches the threshold).
  std::uint64_t count_at_or_above(std::chrono::nanoseconds threshold) const noexcept;

  const histogram_totals& totals() const noexcept { return totals_; }
  std::uint64_t count_at_index(std::size_t index) const noexcept { return counts_[index]; }
  compact_histogram compact() const;

  friend bool operator==(const histogram& a, const histogram& b) {
    return a.totals_ == b.totals_ && a.counts_ == b.counts_;
  }

private:
  std::vector<std::uint64_t> counts_;
  histogram_totals totals_;
};

// Only the non-empty slots, sorted by index. Small when a window saw few distinct latencies.
class compact_histogram {
public:
  using slot = std::pair<std::uint32_t, std::uint64_t>;  // index, count

  void merge(const histogram& dense);  // adds the dense counts to these
  void merge(const compact_histogram& other);
  void record(std::chrono::nanoseconds latency, std::uint64_t n = 1);  // O(slots); for stragglers

  std::uint64_t count() const noexcept { return totals_.count; }
  bool empty() const noexcept { return totals_.count == 0; }
  std::chrono::nanoseconds min() const noexcept;
  std::chrono::nanoseconds max() const noexcept;
  std::chrono::nanoseconds mean() const noexcept;
  std::chrono::nanoseconds percentile(double percent) const noexcept;

  const std::vector<slot>& slots() const noexcept { return slots_; }
  const histogram_totals& totals() const noexcept { return totals_; }
  friend bool operator==(const compact_histogram&, const compact_histogram&) = default;

  // Lossless JSON: {"count", "min_ns", "max_ns", "sum_ns", "buckets": [[lowest_us, count], ...]}.
  nlohmann::json to_json() const;
  // Throws std::invalid_argument naming what is wrong.
  static compact_histogram from_json(const nlohmann::json& j);

private:
  friend class histogram;
  std::vector<slot> slots_;
  histogram_totals totals_;
};

// JSON of a dense histogram (same shape as compact_histogram's).
nlohmann::json to_json(const histogram& h);
histogram histogram_from_json(const nlohmann::json& j);

}  // namespace faultline
