#pragma once
// The WebSocket load (`load: { websocket: {...} }`, Boost.Beast): N sessions connect over a
// ramp; each sends messages at a rate and measures the round trip to the matching reply (the
// next message, or the reply whose field echoes the message's id) from the message's intended
// send time, so a stalled server shows its real effect (no coordinated omission). Session
// attempts are classed as the connection storm classes its connections. Two Timeline series:
// "load.websocket" (a sample per message) and "load.websocket.sessions" (a sample per attempt).

#include "core/connection_outcome.hpp"
#include "core/params.hpp"
#include "probes/http_client.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json_fwd.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::probes {

// The series the WebSocket load records into.
inline constexpr std::string_view websocket_messages_series = "load.websocket";
inline constexpr std::string_view websocket_sessions_series = "load.websocket.sessions";

struct websocket_load_config {
  http_url url;                                // from ws://host[:port]/path
  std::map<std::string, std::string> headers;  // extra headers of the upgrade request
  std::int64_t sessions = 1;
  std::chrono::nanoseconds ramp{};             // session i's first attempt is due at start + ramp * i / sessions
  double rate = 1;                             // messages per second per session; 0: sessions only
  std::vector<std::string> message;            // the message template split at each "{{id}}"
  std::string match;                           // empty: the next message answers; else a JSON pointer to the echoed id
  std::chrono::nanoseconds timeout = std::chrono::seconds(2);          // a message's round trip, at most
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(2);  // TCP connect plus upgrade, at most
  std::optional<std::chrono::nanoseconds> reconnect;  // a failed or dropped session tries again after this

  static constexpr std::string_view id_placeholder = "{{id}}";

  // From `load: { websocket: {...} }` parameters (websocket_load_params()). Throws param_error
  // naming the parameter.
  static websocket_load_config from(const params& p);
  // Message `id` as sent.
  std::string message_text(std::uint64_t id) const;
  // The longest a sample can take: a message's timeout or an attempt's.
  std::chrono::nanoseconds settle_time() const;
};

// The schema of `load: { websocket: {...} }`.
const param_schema& websocket_load_params();

// Sorted, stable counter names; gauges are marked. `sessions` holds each finished attempt's
// class; a held session that the server closes or resets moves from established to closed_early
// or reset, as in a connection storm.
struct websocket_load_stats {
  std::uint64_t messages_late_total = 0;       // sent later than intended by more than 1 ms
  std::uint64_t messages_lost_total = 0;       // waiting for their reply when the server dropped the session
  std::uint64_t messages_not_sent_total = 0;   // already older than the timeout when they could be sent (timeouts)
  std::uint64_t messages_sent_total = 0;
  std::uint64_t messages_timed_out_total = 0;  // no reply within the timeout (not_sent ones included)
  std::uint64_t replies_total = 0;             // replies matched to their message in time
  std::uint64_t replies_unmatched_total = 0;   // messages that answered nothing waiting (late replies, pushes)
  std::array<std::uint64_t, connection_outcome_count> sessions{};
  std::uint64_t sessions_attempted_total = 0;
  std::uint64_t sessions_dropped_total = 0;    // established sessions the server closed or reset
  std::uint64_t sessions_open = 0;             // gauge
  std::uint64_t sessions_peak = 0;             // most open at once (per worker thread, summed)

  std::uint64_t count(connection_outcome o) const { return sessions[static_cast<std::size_t>(o)]; }
};

nlohmann::json to_json(const websocket_load_stats& s);

// Runs the sessions on one or more executors (sessions dealt round robin), each running one
// handler at a time. Runs until stop().
class websocket_load {
public:
  // Raises the open-files limit; throws std::runtime_error when the sessions cannot fit under it.
  websocket_load(std::vector<boost::asio::any_io_executor> executors, std::shared_ptr<const websocket_load_config> config,
                 timeline::recorder messages, timeline::recorder sessions);
  ~websocket_load();
  websocket_load(const websocket_load&) = delete;
  websocket_load& operator=(const websocket_load&) = delete;

  // Resolves the target (blocking, once) and starts the ramp at `at`. Once only.
  void start(clock::time_point at = clock::now());
  // No new attempts or messages; messages waiting for replies get them or time out, then every
  // session is closed (a WebSocket close, at most 1 s). Thread-safe; done() turns true after.
  void stop();
  bool done() const { return started_ && running_workers_ == 0; }
  websocket_load_stats stats() const;
  const websocket_load_config& config() const { return *config_; }

private:
  class worker;
  std::shared_ptr<const websocket_load_config> config_;
  timeline::recorder messages_;
  timeline::recorder sessions_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::atomic<int> running_workers_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  void worker_finished();
};

}  // namespace faultline::probes
