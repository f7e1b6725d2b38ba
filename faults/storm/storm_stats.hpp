#pragma once
// What a connection storm observed: every connection's outcome class, how many were held, and
// connect and handshake latency histograms. Workers send these to the parent as JSON lines;
// the parent sums them.

#include "core/connection_outcome.hpp"
#include "core/histogram.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace faultline::storm {

// Connection outcomes are core's, shared with the WebSocket load.
using faultline::connection_outcome;
using faultline::to_string;
inline constexpr std::size_t outcome_count = connection_outcome_count;
inline std::optional<connection_outcome> outcome_from_string(std::string_view name) {
  return connection_outcome_from_string(name);
}

// Counters of one generator (or the sum over workers); names as in the JSON.
struct storm_counts {
  std::int64_t attempts = 0;   // attempts started
  std::int64_t cancelled = 0;  // attempts still in progress when the storm was stopped (no class)
  std::array<std::int64_t, outcome_count> outcomes{};
  std::int64_t opened = 0;              // connections that completed their handshake, ever
  std::int64_t held = 0;                // established connections open now
  std::int64_t peak_held = 0;           // most held at once
  std::int64_t closed_by_storm = 0;     // held connections the storm closed (hold over, churn, stop)
  std::int64_t dropped_while_held = 0;  // held connections the server closed or reset

  std::int64_t& operator[](connection_outcome o) { return outcomes[static_cast<std::size_t>(o)]; }
  std::int64_t operator[](connection_outcome o) const { return outcomes[static_cast<std::size_t>(o)]; }
  // Attempts whose class is known (all attempts but those in progress and cancelled).
  std::int64_t finished() const;
  // Adds `other`'s counters; peak_held becomes the sum of both peaks (callers that sample the
  // sum of `held` over time keep a better peak themselves).
  void add(const storm_counts& other);
};

nlohmann::json to_json(const storm_counts& c);
storm_counts storm_counts_from_json(const nlohmann::json& j);

// Everything one storm (or one worker) reports when it ends.
struct storm_report {
  storm_counts counts;
  compact_histogram connect_latency;    // socket connect() to connected
  compact_histogram handshake_latency;  // connected to handshake answered (none for tcp)
  std::chrono::nanoseconds elapsed{};           // start to end
  std::chrono::nanoseconds ramp{};              // start to the last attempt's outcome (hold mode; 0 when churning)
  std::int64_t peak_rss_bytes = 0;              // generator memory high-water mark (VmHWM), summed over workers
  std::int64_t workers = 0;                     // worker processes that reported

  // Connections opened (handshake completed) per second: over the ramp in hold mode, over the
  // whole storm when churning; 0 when unknown.
  double opened_per_second() const;
  void add(const storm_report& other);  // sums counts and memory, merges histograms, max of times
};

nlohmann::json to_json(const storm_report& r);
// Throws std::invalid_argument naming what is wrong.
storm_report storm_report_from_json(const nlohmann::json& j);

}  // namespace faultline::storm
