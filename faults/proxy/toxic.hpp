#pragma once
// The toxic contract. A toxic is immutable settings plus one required operation, on_data(): it
// decides when each chunk of one direction of one connection moves on, or drops it. Toxics never
// hold bytes themselves: they pass them on with a release time, so the link that runs them can
// hand every byte in flight to the next stage when a toxic is removed or updated. Probability
// (toxicity) and direction are the link's business, never the toxic's.

#include "core/params.hpp"
#include "faults/proxy/chunk.hpp"
#include "faults/proxy/time.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace faultline::proxy {

// What a toxic did, summed over every link it acted on: one line per counter, in sorted, stable
// snake_case names. The list generates toxic_stats, toxic_counters, snapshot(), to_json() and
// the Prometheus samples (Envoy's ALL_*_STATS pattern), so a counter is added here only.
#define FAULTLINE_TOXIC_STATS(X)                                                                  \
  X(bytes_delayed_total, "bytes released later than they arrived")                               \
  X(bytes_dropped_total, "bytes never passed on")                                                \
  X(bytes_in_total, "bytes that reached the toxic on affected links")                           \
  X(chunks_delayed_total, "chunks released later than they arrived")                            \
  X(chunks_in_total, "chunks that reached the toxic on affected links")                         \
  X(chunks_out_total, "chunks passed on (more than chunks_in_total when the toxic slices)")     \
  X(closes_delayed_total, "ends of stream passed on late (slow_close)")                         \
  X(connections_closed_total, "connections the toxic closed")                                   \
  X(connections_reset_total, "connections the toxic reset (RST)")                               \
  X(delay_ns_total, "sum of the delays of delayed chunks or messages")                          \
  X(links_affected_total, "links where toxicity chose to apply the toxic")                      \
  X(links_total, "links the toxic was offered to")                                              \
  X(messages_affected_total, "messages (queries, commands) the toxic acted on, after toxicity") \
  X(messages_matched_total, "messages its match selected")                                      \
  X(messages_total, "messages the toxic saw")

struct toxic_stats {
#define FAULTLINE_STAT_FIELD(name, help) std::uint64_t name = 0;
  FAULTLINE_TOXIC_STATS(FAULTLINE_STAT_FIELD)
#undef FAULTLINE_STAT_FIELD

  // Calls f(name, value) for every counter, in the order above.
  template <typename F>
  void for_each(F&& f) const {
#define FAULTLINE_STAT_VISIT(name, help) f(#name, name);
    FAULTLINE_TOXIC_STATS(FAULTLINE_STAT_VISIT)
#undef FAULTLINE_STAT_VISIT
  }

  nlohmann::json to_json() const;
};

// Live counters behind toxic_stats; shared by every link (and thread) a toxic acts on.
struct toxic_counters {
#define FAULTLINE_STAT_ATOMIC(name, help) std::atomic<std::uint64_t> name{0};
  FAULTLINE_TOXIC_STATS(FAULTLINE_STAT_ATOMIC)
#undef FAULTLINE_STAT_ATOMIC

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

struct toxic_descriptor;

// Settings of a toxic: the parameters it was made from and the descriptor that declares them
// (toxic_descriptor.hpp), so its type, protocol and control-API attributes come from that one
// declaration. Message-level toxics of a protocol (PostgreSQL, Redis) derive from this directly;
// byte-level toxics derive from `toxic`.
class toxic_config {
public:
  virtual ~toxic_config() = default;
  const toxic_descriptor& descriptor() const { return *descriptor_; }
  std::string_view type() const;
  // Empty for byte-level toxics; otherwise the proxy protocol whose sessions apply the toxic.
  std::string_view protocol() const;
  const params& settings() const { return settings_; }
  // The settings in Toxiproxy's names and units ("latency" in ms), as the control API shows them.
  nlohmann::ordered_json attributes() const;

protected:
  toxic_config(const toxic_descriptor& descriptor, params settings) : descriptor_(&descriptor), settings_(std::move(settings)) {}

private:
  const toxic_descriptor* descriptor_;  // descriptors live as long as the program
  params settings_;
};

class toxic : public toxic_config {
public:
  virtual void on_data(chunk c, toxic_state* state, stage_io& io) const = 0;

  // Optional capabilities, with defaults that leave the stream alone.
  virtual void on_eof(chunk c, toxic_state* state, stage_io& io) const;  // default: pass at once
  virtual std::unique_ptr<toxic_state> new_state() const { return nullptr; }
  virtual void on_start(toxic_state* state, stage_io& io) const;  // joined a link (or was updated)
  virtual void on_stop(toxic_state* state, stage_io& io) const;   // leaves a link that stays open

protected:
  using toxic_config::toxic_config;
};

// A toxic on a proxy: what it is, where it acts and how often, and what it did. The one record
// of an installed toxic, from the request to add it (id 0, no counters; an empty name becomes
// "<type>_<stream>") to the proxy's list, the links and the sessions that run it.
struct installed_toxic {
  std::string name;
  direction stream = direction::downstream;  // message-level toxics see both; the field only names them
  double toxicity = 1.0;  // 0..1: the share of links (byte-level) or messages (message-level) acted on
  std::shared_ptr<const toxic_config> config;
  std::shared_ptr<toxic_counters> counters;  // live; still readable after removal
  std::uint64_t id = 0;                      // unique within the proxy set; names can be reused, ids not

  std::string_view type() const { return config->type(); }
  bool message_level() const { return !config->protocol().empty(); }
};

// Toxicity applied once: 1 always, 0 never (and without drawing, so toxicity 0 has no effect at
// all), otherwise a uniform draw. Links roll it per link, protocol sessions per message.
bool roll_toxicity(double toxicity, std::mt19937_64& random);

}  // namespace faultline::proxy
