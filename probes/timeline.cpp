#include "probes/timeline.hpp"

#include "core/json_fields.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace faultline::probes {
namespace {

constexpr std::array<std::string_view, phase_count> phase_names{"baseline", "fault", "recovery", "after"};

[[noreturn]] void bad_json(const std::string& what) { throw std::invalid_argument("timeline: " + what); }

}  // namespace

std::string_view to_string(phase p) { return phase_names[static_cast<std::size_t>(p)]; }

std::optional<phase> phase_from_string(std::string_view name) {
  for (std::size_t i = 0; i < phase_names.size(); ++i)
    if (phase_names[i] == name) return static_cast<phase>(i);
  return std::nullopt;
}

// ---- value_stats, window, series_stats --------------------------------------------------------

void value_stats::add(double v, std::chrono::nanoseconds at) {
  if (!std::isfinite(v)) return;
  if (count == 0 || v < min) min = v;
  if (count == 0 || v > max) max = v;
  if (count == 0 || at >= last_at) {
    last = v;
    last_at = at;
  }
  sum += v;
  ++count;
}

void value_stats::merge(const value_stats& other) {
  if (other.count == 0) return;
  if (count == 0) {
    *this = other;
    return;
  }
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  if (other.last_at >= last_at) {
    last = other.last;
    last_at = other.last_at;
  }
  sum += other.sum;
  count += other.count;
}

namespace {
std::uint64_t sum_of(const outcome_counts& counts) {
  std::uint64_t n = 0;
  for (auto c : counts) n += c;
  return n;
}
}  // namespace

std::uint64_t window::total() const { return sum_of(outcomes); }
std::uint64_t series_stats::total() const { return sum_of(outcomes); }

void series_stats::add(const window& w) {
  latency.merge(w.latency);
  for (std::size_t i = 0; i < outcome_count; ++i) outcomes[i] += w.outcomes[i];
  late += w.late;
  fast_errors += w.fast_errors;
  value.merge(w.value);
  ++windows;
}

double series_stats::error_rate() const {
  const auto n = total();
  return n ? static_cast<double>(errors()) / static_cast<double>(n) : 0.0;
}

// ---- series_data ----------------------------------------------------------------------------

// One series: closed windows hold compact histograms; the newest few windows record into dense
// histograms (constant time), compacted when their slot is needed by a newer window. A sample
// for a window older than the hot slots (a straggler) goes straight into its compact histogram.
struct timeline::series_data {
  static constexpr std::size_t hot_count = 4;
  struct hot_window {
    std::int64_t index = -1;
    std::unique_ptr<histogram> dense;
  };

  mutable std::mutex mutex;
  std::vector<window> windows;
  std::array<hot_window, hot_count> hot;
  mutable sample_log samples;  // sorted in place when read
  std::uint64_t unlogged = 0;

  window& at(std::int64_t index) {
    while (static_cast<std::int64_t>(windows.size()) <= index) {
      window w;
      w.index = static_cast<std::int64_t>(windows.size());
      windows.push_back(std::move(w));
    }
    return windows[static_cast<std::size_t>(index)];
  }

  void flush(hot_window& h) {
    if (h.index >= 0 && h.dense && !h.dense->empty()) {
      windows[static_cast<std::size_t>(h.index)].latency.merge(*h.dense);
      h.dense->reset();
    }
    h.index = -1;
  }

  void record_latency(std::int64_t index, std::chrono::nanoseconds latency) {
    auto& h = hot[static_cast<std::size_t>(index) % hot_count];
    if (h.index == index) {
      h.dense->record(latency);
    } else if (h.index < index) {
      flush(h);
      if (!h.dense) h.dense = std::make_unique<histogram>();
      h.index = index;
      h.dense->record(latency);
    } else {
      windows[static_cast<std::size_t>(index)].latency.record(latency);
    }
  }

  window snapshot(std::int64_t index) const {
    window w = windows[static_cast<std::size_t>(index)];
    const auto& h = hot[static_cast<std::size_t>(index) % hot_count];
    if (h.index == index && h.dense) w.latency.merge(*h.dense);
    return w;
  }
};

// ---- timeline -------------------------------------------------------------------------------

timeline::timeline(clock::time_point start, timeline_options options) : options_(options), start_(start) {
  if (options_.window.count() <= 0) throw std::invalid_argument("timeline: the window width must be positive");
}

timeline::~timeline() = default;

void timeline::recorder::record(const sample& s) const { owner_->record_into(*series_, s); }

void timeline::record_into(series_data& s, const sample& smp) const {
  const auto offset = offset_of(smp.intended);
  const std::int64_t index = window_of(offset);
  const bool late = smp.started - smp.intended > options_.late_after;
  std::lock_guard lock(s.mutex);
  auto& w = s.at(index);
  w.outcomes[static_cast<std::size_t>(smp.result)] += 1;
  if (late) ++w.late;
  if (smp.result != outcome::ok && smp.latency < options_.fast_failure) ++w.fast_errors;
  if (smp.value) w.value.add(*smp.value, offset);
  s.record_latency(index, smp.latency);
  if (s.samples.size() < options_.max_logged_samples)
    s.samples.add(offset, smp.latency, smp.result, smp.fallback, smp.value);
  else
    ++s.unlogged;
}

timeline::recorder timeline::series(std::string_view name) {
  {
    std::shared_lock lock(series_mutex_);
    if (auto it = series_.find(name); it != series_.end()) return {this, it->second.get()};
  }
  std::unique_lock lock(series_mutex_);
  auto it = series_.find(name);
  if (it == series_.end()) it = series_.emplace(std::string(name), std::make_unique<series_data>()).first;
  return {this, it->second.get()};
}

timeline::series_data* timeline::find(std::string_view name) const {
  std::shared_lock lock(series_mutex_);
  auto it = series_.find(name);
  return it == series_.end() ? nullptr : it->second.get();
}

std::int64_t timeline::window_of(std::chrono::nanoseconds offset) const {
  if (offset.count() < 0) return 0;
  return offset / options_.window;
}

time_range timeline::window_range(std::int64_t index) const {
  return {options_.window * index, options_.window * (index + 1)};
}

void timeline::mark(phase p, std::chrono::nanoseconds at) {
  std::lock_guard lock(marks_mutex_);
  marks_[static_cast<std::size_t>(p)] = at;
}

void timeline::finish(std::chrono::nanoseconds end) {
  std::lock_guard lock(marks_mutex_);
  end_ = end;
}

std::vector<phase_mark> timeline::marks() const {
  std::vector<phase_mark> out;
  {
    std::lock_guard lock(marks_mutex_);
    for (std::size_t i = 0; i < phase_count; ++i)
      if (marks_[i]) out.push_back({static_cast<phase>(i), *marks_[i]});
  }
  // Time order; phases marked at the same moment keep their natural order.
  std::stable_sort(out.begin(), out.end(), [](const phase_mark& a, const phase_mark& b) { return a.at < b.at; });
  return out;
}

std::optional<std::chrono::nanoseconds> timeline::end() const {
  std::lock_guard lock(marks_mutex_);
  return end_;
}

std::optional<time_range> timeline::range_of(phase p) const {
  const auto all = marks();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].which != p) continue;
    time_range r{all[i].at, std::chrono::nanoseconds::max()};
    if (i + 1 < all.size())
      r.end = all[i + 1].at;
    else if (auto e = end())
      r.end = std::max(*e, r.begin);
    return r;
  }
  return std::nullopt;
}

std::optional<phase> timeline::phase_at(std::chrono::nanoseconds at) const {
  for (std::size_t i = 0; i < phase_count; ++i) {
    const auto p = static_cast<phase>(i);
    if (auto r = range_of(p); r && r->contains(at)) return p;
  }
  return std::nullopt;
}

std::vector<std::string> timeline::series_names() const {
  std::shared_lock lock(series_mutex_);
  std::vector<std::string> out;
  for (const auto& [name, s] : series_) out.push_back(name);
  return out;
}

bool timeline::has_series(std::string_view name) const { return find(name) != nullptr; }

std::int64_t timeline::window_count(std::string_view name) const {
  auto* s = find(name);
  if (!s) return 0;
  std::lock_guard lock(s->mutex);
  return static_cast<std::int64_t>(s->windows.size());
}

std::vector<window> timeline::windows(std::string_view name, time_range range) const {
  std::vector<window> out;
  auto* s = find(name);
  if (!s) return out;
  std::lock_guard lock(s->mutex);
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(s->windows.size()); ++i) {
    const auto r = window_range(i);
    if (range.contains(r.begin + (r.end - r.begin) / 2)) out.push_back(s->snapshot(i));
  }
  return out;
}

series_stats timeline::stats(std::string_view name, time_range range) const {
  series_stats out;
  auto* s = find(name);
  if (!s) return out;
  std::lock_guard lock(s->mutex);
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(s->windows.size()); ++i) {
    const auto r = window_range(i);
    if (!range.contains(r.begin + (r.end - r.begin) / 2)) continue;
    out.add(s->windows[static_cast<std::size_t>(i)]);
    const auto& h = s->hot[static_cast<std::size_t>(i) % series_data::hot_count];
    if (h.index == i && h.dense) out.latency.merge(*h.dense);
  }
  return out;
}

std::optional<series_stats> timeline::stats(std::string_view name, phase p) const {
  auto r = range_of(p);
  if (!r) return std::nullopt;
  return stats(name, *r);
}

sample_log timeline::samples(std::string_view name) const {
  auto* s = find(name);
  if (!s) return {};
  std::lock_guard lock(s->mutex);
  s->samples.sort();
  return s->samples;
}

std::uint64_t timeline::unlogged_samples(std::string_view name) const {
  auto* s = find(name);
  if (!s) return 0;
  std::lock_guard lock(s->mutex);
  return s->unlogged;
}

bool timeline::samples_complete() const {
  if (options_.max_logged_samples == 0) return false;
  for (const auto& name : series_names())
    if (unlogged_samples(name) > 0) return false;
  return true;
}

// ---- JSON -----------------------------------------------------------------------------------

namespace {

nlohmann::json window_to_json(const window& w) {
  nlohmann::json outcomes = nlohmann::json::object();
  for (std::size_t i = 0; i < outcome_count; ++i)
    if (w.outcomes[i]) outcomes[std::string(to_string(static_cast<outcome>(i)))] = w.outcomes[i];
  nlohmann::json j{{"index", w.index}, {"outcomes", std::move(outcomes)}, {"late", w.late},
                   {"fast_errors", w.fast_errors}, {"latency", w.latency.to_json()}};
  if (w.value.count)
    j["value"] = {{"count", w.value.count}, {"last", w.value.last}, {"min", w.value.min},
                  {"max", w.value.max},     {"sum", w.value.sum},   {"last_at_ns", w.value.last_at.count()}};
  return j;
}

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) bad_json(where + ": missing '" + key + "'");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!j.at(key).is_number()) bad_json(where + ": '" + key + "' has the wrong type");
    if (auto n = whole_number_in<T>(j.at(key))) return *n;
    bad_json(fmt::format("{}: '{}' must be a whole number from {} to {}, not {}", where, key,
                         std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), j.at(key).dump()));
  }
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    bad_json(where + ": '" + key + "' has the wrong type");
  }
}

window window_from_json(const nlohmann::json& j, const std::string& where) {
  window w;
  w.index = field<std::int64_t>(j, "index", where);
  const auto& outcomes = j.contains("outcomes") ? j.at("outcomes") : nlohmann::json::object();
  if (!outcomes.is_object()) bad_json(where + ": 'outcomes' must be an object");
  for (const auto& [name, n] : outcomes.items()) {
    auto o = outcome_from_string(name);
    if (!o) bad_json(where + ": unknown outcome '" + name + "'");
    if (!n.is_number_integer() || n.get<std::int64_t>() < 0) bad_json(where + ": outcome '" + name + "' must be a count");
    w.outcomes[static_cast<std::size_t>(*o)] = n.get<std::uint64_t>();
  }
  w.late = field<std::uint64_t>(j, "late", where);
  w.fast_errors = field<std::uint64_t>(j, "fast_errors", where);
  try {
    w.latency = compact_histogram::from_json(j.contains("latency") ? j.at("latency") : nlohmann::json());
  } catch (const std::invalid_argument& e) {
    bad_json(where + ": " + e.what());
  }
  if (j.contains("value")) {
    const auto& v = j.at("value");
    const auto at = where + ".value";
    w.value.count = field<std::uint64_t>(v, "count", at);
    w.value.last = field<double>(v, "last", at);
    w.value.min = field<double>(v, "min", at);
    w.value.max = field<double>(v, "max", at);
    w.value.sum = field<double>(v, "sum", at);
    w.value.last_at = std::chrono::nanoseconds(field<std::int64_t>(v, "last_at_ns", at));
  }
  return w;
}

}  // namespace

nlohmann::json timeline::to_json() const {
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& m : marks()) phases.push_back({{"phase", to_string(m.which)}, {"at_ns", m.at.count()}});
  nlohmann::json series = nlohmann::json::object();
  for (const auto& name : series_names()) {
    nlohmann::json data = nlohmann::json::array();
    const auto all = windows(name);
    for (const auto& w : all)
      if (w.total() > 0) data.push_back(window_to_json(w));
    series[name] = {{"window_count", all.size()}, {"windows", std::move(data)}};
    if (options_.max_logged_samples > 0) {
      series[name]["samples"] = samples(name).to_json();
      if (const auto n = unlogged_samples(name)) series[name]["unlogged_samples"] = n;
    }
  }
  const auto e = end();
  return {{"version", 2},
          {"window_ns", options_.window.count()},
          {"late_after_ns", options_.late_after.count()},
          {"fast_failure_ns", options_.fast_failure.count()},
          {"max_logged_samples", options_.max_logged_samples},
          {"phases", std::move(phases)},
          {"end_ns", e ? nlohmann::json(e->count()) : nlohmann::json()},
          {"series", std::move(series)}};
}

namespace {
timeline_options options_from_json(const nlohmann::json& j) {
  if (!j.is_object()) bad_json("expected an object (the output of timeline::to_json)");
  const int version = field<int>(j, "version", "timeline");
  if (version != 1 && version != 2)
    bad_json("unsupported version " + j.at("version").dump() + " (this faultline reads versions 1 and 2)");
  timeline_options o;
  o.window = std::chrono::nanoseconds(field<std::int64_t>(j, "window_ns", "timeline"));
  o.late_after = std::chrono::nanoseconds(field<std::int64_t>(j, "late_after_ns", "timeline"));
  o.fast_failure = std::chrono::nanoseconds(field<std::int64_t>(j, "fast_failure_ns", "timeline"));
  // Version 1 had no sample logs.
  o.max_logged_samples = version == 1 ? 0 : field<std::size_t>(j, "max_logged_samples", "timeline");
  return o;
}
}  // namespace

timeline::timeline(const nlohmann::json& j) : timeline(clock::now(), options_from_json(j)) {
  const auto& phases = j.contains("phases") ? j.at("phases") : nlohmann::json::array();
  if (!phases.is_array()) bad_json("'phases' must be an array");
  for (const auto& m : phases) {
    const auto name = field<std::string>(m, "phase", "phases");
    auto p = phase_from_string(name);
    if (!p) bad_json("unknown phase '" + name + "' (known: baseline, fault, recovery, after)");
    mark(*p, std::chrono::nanoseconds(field<std::int64_t>(m, "at_ns", "phases")));
  }
  if (j.contains("end_ns") && !j.at("end_ns").is_null()) finish(std::chrono::nanoseconds(field<std::int64_t>(j, "end_ns", "timeline")));
  const auto& all = j.contains("series") ? j.at("series") : nlohmann::json::object();
  if (!all.is_object()) bad_json("'series' must be an object");
  for (const auto& [name, sj] : all.items()) {
    const auto where = "series '" + name + "'";
    auto* s = series(name).series_;
    const auto count = field<std::int64_t>(sj, "window_count", where);
    if (count < 0) bad_json(where + ": negative window_count");
    if (count > 0) s->at(count - 1);
    if (!sj.contains("windows") || !sj.at("windows").is_array()) bad_json(where + ": 'windows' must be an array");
    for (const auto& wj : sj.at("windows")) {
      auto w = window_from_json(wj, where);
      if (w.index < 0 || w.index >= count)
        bad_json(where + ": window " + std::to_string(w.index) + " is outside window_count " + std::to_string(count));
      s->windows[static_cast<std::size_t>(w.index)] = std::move(w);
    }
    if (sj.contains("samples")) {
      try {
        s->samples = sample_log::from_json(sj.at("samples"));
      } catch (const std::invalid_argument& e) {
        bad_json(where + ": " + e.what());
      }
    }
    if (sj.contains("unlogged_samples")) s->unlogged = field<std::uint64_t>(sj, "unlogged_samples", where);
  }
}

}  // namespace faultline::probes
