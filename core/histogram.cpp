#include "core/histogram.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace faultline {
namespace layout = histogram_layout;

namespace {

std::uint64_t target_rank(double percent, std::uint64_t count) {
  const double p = std::clamp(percent, 0.0, 100.0);
  const auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count)));
  return std::clamp<std::uint64_t>(rank, 1, count);
}

// The top of a slot in nanoseconds, clamped to what was actually recorded.
std::chrono::nanoseconds slot_top(std::size_t index, const histogram_totals& t) {
  const std::int64_t top = (layout::highest_of(index) + 1) * 1000 - 1;
  return std::chrono::nanoseconds(std::clamp(top, t.min_ns, t.max_ns));
}

std::chrono::nanoseconds mean_of(const histogram_totals& t) {
  if (t.count == 0) return {};
  return std::chrono::nanoseconds(static_cast<std::int64_t>(t.sum_ns / t.count));
}

}  // namespace

void histogram_totals::add(const histogram_totals& other) {
  if (other.count == 0) return;
  count += other.count;
  min_ns = std::min(min_ns, other.min_ns);
  max_ns = std::max(max_ns, other.max_ns);
  sum_ns += other.sum_ns;
}

// ---- histogram ----------------------------------------------------------------------------

histogram::histogram() : counts_(layout::index_count, 0) {}

void histogram::merge(const histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  totals_.add(other.totals_);
}

void histogram::merge(const compact_histogram& other) {
  for (const auto& [index, n] : other.slots_) counts_[index] += n;
  totals_.add(other.totals_);
}

void histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  totals_ = {};
}

std::chrono::nanoseconds histogram::min() const noexcept {
  return std::chrono::nanoseconds(totals_.count ? totals_.min_ns : 0);
}
std::chrono::nanoseconds histogram::max() const noexcept { return std::chrono::nanoseconds(totals_.max_ns); }
std::chrono::nanoseconds histogram::mean() const noexcept { return mean_of(totals_); }

std::chrono::nanoseconds histogram::percentile(double percent) const noexcept {
  if (totals_.count == 0) return {};
  const std::uint64_t rank = target_rank(percent, totals_.count);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return slot_top(i, totals_);
  }
  return max();
}

std::uint64_t histogram::count_at_or_above(std::chrono::nanoseconds threshold) const noexcept {
  const std::int64_t us = std::max<std::int64_t>(0, threshold.count() / 1000);
  std::uint64_t n = 0;
  for (std::size_t i = layout::index_of(us); i < counts_.size(); ++i) n += counts_[i];
  return n;
}

compact_histogram histogram::compact() const {
  compact_histogram out;
  out.merge(*this);
  return out;
}

// ---- compact_histogram --------------------------------------------------------------------

void compact_histogram::merge(const histogram& dense) {
  if (dense.empty()) return;
  std::vector<slot> merged;
  merged.reserve(slots_.size() + 64);
  auto it = slots_.begin();
  for (std::size_t i = 0; i < layout::index_count; ++i) {
    const std::uint64_t n = dense.count_at_index(i);
    while (it != slots_.end() && it->first < i) merged.push_back(*it++);
    std::uint64_t total = n;
    if (it != slots_.end() && it->first == i) total += (it++)->second;
    if (total) merged.emplace_back(static_cast<std::uint32_t>(i), total);
  }
  merged.insert(merged.end(), it, slots_.end());
  slots_ = std::move(merged);
  totals_.add(dense.totals());
}

void compact_histogram::merge(const compact_histogram& other) {
  if (other.empty()) return;
  std::vector<slot> merged;
  merged.reserve(slots_.size() + other.slots_.size());
  auto a = slots_.begin();
  auto b = other.slots_.begin();
  while (a != slots_.end() || b != other.slots_.end()) {
    if (b == other.slots_.end() || (a != slots_.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == slots_.end() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, a->second + b->second);
      ++a;
      ++b;
    }
  }
  slots_ = std::move(merged);
  totals_.add(other.totals_);
}

void compact_histogram::record(std::chrono::nanoseconds latency, std::uint64_t n) {
  const std::int64_t ns = latency.count() < 0 ? 0 : latency.count();
  const auto index = static_cast<std::uint32_t>(layout::index_of(ns / 1000));
  auto it = std::lower_bound(slots_.begin(), slots_.end(), index,
                             [](const slot& s, std::uint32_t i) { return s.first < i; });
  if (it != slots_.end() && it->first == index)
    it->second += n;
  else
    slots_.insert(it, {index, n});
  totals_.add(ns, n);
}

std::chrono::nanoseconds compact_histogram::min() const noexcept {
  return std::chrono::nanoseconds(totals_.count ? totals_.min_ns : 0);
}
std::chrono::nanoseconds compact_histogram::max() const noexcept { return std::chrono::nanoseconds(totals_.max_ns); }
std::chrono::nanoseconds compact_histogram::mean() const noexcept { return mean_of(totals_); }

std::chrono::nanoseconds compact_histogram::percentile(double percent) const noexcept {
  if (totals_.count == 0) return {};
  const std::uint64_t rank = target_rank(percent, totals_.count);
  std::uint64_t seen = 0;
  for (const auto& [index, n] : slots_) {
    seen += n;
    if (seen >= rank) return slot_top(index, totals_);
  }
  return max();
}

nlohmann::json compact_histogram::to_json() const {
  auto buckets = nlohmann::json::array();
  for (const auto& [index, n] : slots_) buckets.push_back({layout::lowest_of(index), n});
  return {{"count", totals_.count},
          {"min_ns", totals_.count ? totals_.min_ns : 0},
          {"max_ns", totals_.max_ns},
          {"sum_ns", totals_.sum_ns},
          {"buckets", std::move(buckets)}};
}

compact_histogram compact_histogram::from_json(const nlohmann::json& j) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("histogram: " + what); };
  if (!j.is_object()) fail("expected an object with count, min_ns, max_ns, sum_ns and buckets");
  for (const char* key : {"count", "min_ns", "max_ns", "sum_ns"})
    if (!j.contains(key) || !j.at(key).is_number_integer()) fail(std::string("'") + key + "' must be an integer");
  if (!j.contains("buckets") || !j.at("buckets").is_array()) fail("'buckets' must be an array of [lowest_us, count]");
  compact_histogram out;
  std::uint64_t total = 0;
  for (const auto& b : j.at("buckets")) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer() || b[1].get<std::int64_t>() < 0)
      fail("each bucket must be [lowest_us, count]");
    const auto lowest = b[0].get<std::int64_t>();
    const auto n = b[1].get<std::uint64_t>();
    const auto index = layout::index_of(lowest);
    if (layout::lowest_of(index) != lowest) fail("bucket " + std::to_string(lowest) + " us is not a bucket boundary");
    if (!out.slots_.empty() && out.slots_.back().first >= index) fail("buckets must be sorted and distinct");
    if (n == 0) fail("bucket " + std::to_string(lowest) + " us has count 0");
    out.slots_.emplace_back(static_cast<std::uint32_t>(index), n);
    total += n;
  }
  out.totals_.count = j.at("count").get<std::uint64_t>();
  if (out.totals_.count != total) fail("count " + std::to_string(out.totals_.count) + " differs from the buckets' sum " + std::to_string(total));
  if (total) {
    out.totals_.min_ns = j.at("min_ns").get<std::int64_t>();
    out.totals_.max_ns = j.at("max_ns").get<std::int64_t>();
    out.totals_.sum_ns = j.at("sum_ns").get<std::uint64_t>();
  }
  return out;
}

nlohmann::json to_json(const histogram& h) { return h.compact().to_json(); }

histogram histogram_from_json(const nlohmann::json& j) {
  histogram h;
  h.merge(compact_histogram::from_json(j));
  return h;
}

}  // namespace faultline
