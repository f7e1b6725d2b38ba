#pragma once
// The toxic contract. A toxic is immutable settings plus one required operation, on_data(): it
// decides when each chunk of one direction of one connection moves on, or drops it. Toxics never
// hold bytes themselves: they pass them on with a release time, so the link that runs them can
// hand every byte in flight to the next stage when a toxic is removed or updated. Probability
// (toxicity) and direction are the link's business, never the toxic's.

#include "faults/proxy/chunk.hpp"
#include "faults/proxy/time.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string_view>

namespace faultline::proxy {

// What a toxic did, summed over every link it acted on. Sorted, stable snake_case names.
struct toxic_stats {
  std::uint64_t bytes_delayed_total = 0;       // bytes released later than they arrived
  std::uint64_t bytes_dropped_total = 0;       // bytes never passed on
  std::uint64_t bytes_in_total = 0;            // bytes that reached the toxic on affected links
  std::uint64_t chunks_delayed_total = 0;
  std::uint64_t chunks_in_total = 0;
  std::uint64_t chunks_out_total = 0;          // more than chunks_in_total when the toxic slices
  std::uint64_t closes_delayed_total = 0;      // ends of stream passed on late (slow_close)
  std::uint64_t connections_closed_total = 0;  // connections the toxic closed
  std::uint64_t connections_reset_total = 0;   // connections the toxic reset (RST)
  std::uint64_t delay_ns_total = 0;            // sum of the delays of delayed chunks
  std::uint64_t links_affected_total = 0;      // links where toxicity chose to apply the toxic
  std::uint64_t links_total = 0;               // links the toxic was offered to
  // Message-level toxics (protocol sessions): queries or commands the toxic saw, those its match
  // selected, and those it acted on (after its toxicity).
  std::uint64_t messages_affected_total = 0;
  std::uint64_t messages_matched_total = 0;
  std::uint64_t messages_total = 0;

  nlohmann::json to_json() const;
};

// Live counters behind toxic_stats; shared by every link (and thread) a toxic acts on.
struct toxic_counters {
  std::atomic<std::uint64_t> bytes_delayed_total{0};
  std::atomic<std::uint64_t> bytes_dropped_total{0};
  std::atomic<std::uint64_t> bytes_in_total{0};
  std::atomic<std::uint64_t> chunks_delayed_total{0};
  std::atomic<std::uint64_t> chunks_in_total{0};
  std::atomic<std::uint64_t> chunks_out_total{0};
  std::atomic<std::uint64_t> closes_delayed_total{0};
  std::atomic<std::uint64_t> connections_closed_total{0};
  std::atomic<std::uint64_t> connections_reset_total{0};
  std::atomic<std::uint64_t> delay_ns_total{0};
  std::atomic<std::uint64_t> links_affected_total{0};
  std::atomic<std::uint64_t> links_total{0};
  std::atomic<std::uint64_t> messages_affected_total{0};
  std::atomic<std::uint64_t> messages_matched_total{0};
  std::atomic<std::uint64_t> messages_total{0};

  toxic_stats snapshot() const;
};

// Per-link state of a stateful toxic (limit_data's byte count, bandwidth's schedule). Created
// when the toxic joins a link; kept across updates of the toxic; gone with the link.
class toxic_state {
public:
  virtual ~toxic_state() = default;
};

// What a toxic may do with the chunks of the link it runs on.
class stage_io {
public:
  virtual time_point now() const = 0;
  // Moves the chunk on at `at` (at its stamp or later). Release is first in, first out: a chunk
  // never overtakes one passed before it. time_point::max() holds it until the toxic goes.
  virtual void pass(chunk c, time_point at) = 0;
  virtual void drop(const chunk& c) = 0;
  // Closes the whole connection (FIN both ways) at `at`, after every chunk already passed.
  virtual void close_at(time_point at) = 0;
  // Resets both sides (RST) at `at`; chunks not yet delivered are lost.
  virtual void reset_at(time_point at) = 0;
  virtual std::mt19937_64& random() = 0;

protected:
  ~stage_io() = default;
};

// Settings of a toxic as the proxy's control plane sees them. Message-level toxics of a protocol
// (PostgreSQL, Redis) derive from this directly and name their protocol; byte-level toxics
// derive from `toxic`.
class toxic_config {
public:
  virtual ~toxic_config() = default;
  virtual std::string_view type() const = 0;
  // In Toxiproxy's units and names ("latency" in ms), as the control API shows them.
  virtual nlohmann::ordered_json attributes() const = 0;
  // Empty for byte-level toxics; otherwise the proxy protocol whose sessions apply the toxic.
  virtual std::string_view protocol() const { return {}; }
};

class toxic : public toxic_config {
public:
  virtual void on_data(chunk c, toxic_state* state, stage_io& io) const = 0;

  // Optional capabilities, with defaults that leave the stream alone.
  virtual void on_eof(chunk c, toxic_state* state, stage_io& io) const;  // default: pass at once
  virtual std::unique_ptr<toxic_state> new_state() const { return nullptr; }
  virtual void on_start(toxic_state* state, stage_io& io) const;  // joined a link (or was updated)
  virtual void on_stop(toxic_state* state, stage_io& io) const;   // leaves a link that stays open
};

}  // namespace faultline::proxy
