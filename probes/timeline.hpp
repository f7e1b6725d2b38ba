#pragma once
// The Timeline: every sample of a run, in fixed-width windows (1 s by default) per named series
// ("load", one per probe). A window holds a latency histogram, counts per outcome and, for probes
// with values, the last/min/max value. Each series also logs every sample compactly (the sample
// log), so the analysis can time events finer than a window. Phases (baseline, fault, recovery,
// after) are marked as time offsets; queries go by phase or by time range. The JSON form is
// lossless and documented in docs/probes.md.

#include "core/histogram.hpp"
#include "probes/sample.hpp"
#include "probes/sample_log.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::probes {

enum class phase : std::uint8_t { baseline, fault, recovery, after };
inline constexpr std::size_t phase_count = 4;
std::string_view to_string(phase p);
std::optional<phase> phase_from_string(std::string_view name);

// Where a phase begins, as an offset from the timeline's start.
struct phase_mark {
  phase which = phase::baseline;
  std::chrono::nanoseconds at{};
  friend bool operator==(const phase_mark&, const phase_mark&) = default;
};

// [begin, end) in offsets from the timeline's start.
struct time_range {
  std::chrono::nanoseconds begin{};
  std::chrono::nanoseconds end = std::chrono::nanoseconds::max();
  bool contains(std::chrono::nanoseconds t) const { return t >= begin && t < end; }
  friend bool operator==(const time_range&, const time_range&) = default;
};

// The values probes extracted (metric, JSON pointer, stdout number). Non-finite values are not
// counted (JSON cannot hold them).
struct value_stats {
  std::uint64_t count = 0;
  double last = 0;
  double min = 0;
  double max = 0;
  double sum = 0;
  std::chrono::nanoseconds last_at{};  // intended offset of the sample `last` came from

  void add(double v, std::chrono::nanoseconds at);
  void merge(const value_stats& other);  // `last` is the later one
  double mean() const { return count ? sum / static_cast<double>(count) : 0; }
  friend bool operator==(const value_stats&, const value_stats&) = default;
};

using outcome_counts = std::array<std::uint64_t, outcome_count>;

// One window of one series. Samples belong to the window of their intended start.
struct window {
  std::int64_t index = 0;  // covers [index * width, (index + 1) * width)
  compact_histogram latency;
  outcome_counts outcomes{};
  std::uint64_t late = 0;  // samples that started later than intended by more than late_after
  std::uint64_t fast_errors = 0;  // failed samples that took less than fast_failure (breaker analysis)
  value_stats value;

  std::uint64_t total() const;
  std::uint64_t errors() const { return total() - outcomes[0]; }
  std::uint64_t count(outcome o) const { return outcomes[static_cast<std::size_t>(o)]; }
  friend bool operator==(const window&, const window&) = default;
};

// Several windows merged (a phase, a time range).
struct series_stats {
  histogram latency;
  outcome_counts outcomes{};
  std::uint64_t late = 0;
  std::uint64_t fast_errors = 0;
  value_stats value;
  std::int64_t windows = 0;  // how many windows were merged (empty ones included)

  void add(const window& w);
  std::uint64_t total() const;
  std::uint64_t errors() const { return total() - outcomes[0]; }
  std::uint64_t count(outcome o) const { return outcomes[static_cast<std::size_t>(o)]; }
  double error_rate() const;  // 0 when there were no samples
};

struct timeline_options {
  std::chrono::nanoseconds window = std::chrono::seconds(1);
  std::chrono::nanoseconds late_after = std::chrono::milliseconds(1);
  // Errors faster than this are fast failures: what an open circuit breaker's rejections look like.
  std::chrono::nanoseconds fast_failure = std::chrono::milliseconds(50);
  // Samples each series logs one by one (8 bytes each) on top of its windows; later ones are
  // counted but not logged. 0 logs none (a plain `faultline load` needs only the windows).
  std::size_t max_logged_samples = std::size_t{32} << 20;
};

class timeline {
  struct series_data;

public:
  // Records into one series; cheap to copy, valid while the timeline lives, safe from any thread.
  class recorder {
  public:
    recorder() = default;
    void record(const sample& s) const;
    explicit operator bool() const { return series_ != nullptr; }

  private:
    friend class timeline;
    recorder(const timeline* owner, series_data* series) : owner_(owner), series_(series) {}
    const timeline* owner_ = nullptr;
    series_data* series_ = nullptr;
  };

  explicit timeline(clock::time_point start, timeline_options options = {});
  // Rebuilds a timeline from to_json(); throws std::invalid_argument naming what is wrong.
  // Its start is the moment of loading; offsets are what count.
  explicit timeline(const nlohmann::json& j);
  ~timeline();
  timeline(const timeline&) = delete;
  timeline& operator=(const timeline&) = delete;

  // The series named `name`, created empty on first use.
  recorder series(std::string_view name);
  void record(std::string_view series_name, const sample& s) { series(series_name).record(s); }

  clock::time_point start() const { return start_; }
  const timeline_options& options() const { return options_; }
  std::chrono::nanoseconds offset_of(clock::time_point t) const { return t - start_; }
  std::int64_t window_of(std::chrono::nanoseconds offset) const;
  time_range window_range(std::int64_t index) const;

  // Phase `p` begins at `at` (marking it again moves it). A phase ends where the next mark (in
  // time order) begins, or at the end of the run (finish), or never.
  void mark(phase p, std::chrono::nanoseconds at);
  void mark(phase p, clock::time_point at) { mark(p, offset_of(at)); }
  void finish(std::chrono::nanoseconds end);
  std::vector<phase_mark> marks() const;  // in time order
  std::optional<std::chrono::nanoseconds> end() const;
  std::optional<time_range> range_of(phase p) const;
  std::optional<phase> phase_at(std::chrono::nanoseconds at) const;

  std::vector<std::string> series_names() const;
  bool has_series(std::string_view name) const;
  // How many windows the series spans (up to its latest sample); 0 for an unknown series.
  std::int64_t window_count(std::string_view name) const;
  // Copies of the windows whose middle lies in `range` (all windows by default), in order.
  // Windows without samples are included, so indexes are contiguous.
  std::vector<window> windows(std::string_view name, time_range range = {}) const;
  series_stats stats(std::string_view name, time_range range) const;
  // Stats over a phase; nullopt when the phase was never marked.
  std::optional<series_stats> stats(std::string_view name, phase p) const;

  // The series' sample log, in intended order (empty for an unknown series).
  sample_log samples(std::string_view name) const;
  // Samples of the series that came after its log was full (or all, when logging is off).
  std::uint64_t unlogged_samples(std::string_view name) const;
  // Whether the sample logs hold every sample: logging was on (a timeline read from a version 1
  // document has no logs) and no log overflowed.
  bool samples_complete() const;

  nlohmann::json to_json() const;

private:
  const timeline_options options_;
  const clock::time_point start_;
  mutable std::shared_mutex series_mutex_;
  std::map<std::string, std::unique_ptr<series_data>, std::less<>> series_;
  mutable std::mutex marks_mutex_;
  std::array<std::optional<std::chrono::nanoseconds>, phase_count> marks_{};
  std::optional<std::chrono::nanoseconds> end_;

  series_data* find(std::string_view name) const;
  void record_into(series_data& s, const sample& smp) const;
};

}  // namespace faultline::probes
