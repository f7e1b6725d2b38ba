#pragma once
// The HTTP load generator. Open model (a constant or ramping arrival rate): each request has an
// intended send time from the load shape and its latency counts from then, so a stalled server
// shows its real effect (as wrk2 does); requests that could not be sent on time are counted.
// Closed model: N virtual users, each waiting for its response and a think time; a user runs a
// journey (its steps in order, with values captured from responses) or picks from the mix.
// Requests: one URL, or a mix of named, weighted requests interleaved in exact proportion
// (smooth weighted round robin, as nginx balances upstreams), each with ${...} values. HTTP/1.1
// keep-alive over a pool sized on demand or fixed. Runs on one or more executors (one worker per
// executor, the rate and users split between them), records into a Timeline series (and one per
// named request), stops by itself at the end of the shape or after max_requests, and on stop().

#include "core/params.hpp"
#include "probes/http_client.hpp"
#include "probes/load_request.hpp"
#include "probes/load_shape.hpp"
#include "probes/load_values.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline::probes {

// One entry of `requests:` or `journey:` as the loader read it.
struct load_request_input {
  params parameters;                   // against load_request_params()
  std::vector<load_capture> captures;  // journey: `capture:` (slots are filled in by the config)
};

// What `load: { http: ... }` says besides its flat parameters.
struct http_load_parts {
  std::vector<load_request_input> requests;  // a weighted mix, or the steps of a journey
  bool journey = false;
  std::vector<std::pair<std::string, params>> values;  // `values:`, each against load_value_params()
  std::filesystem::path base_dir;                      // CSV paths are relative to it
};

struct http_load_config {
  http_url url;
  // The mix, or the journey's steps in order; one unnamed request in the single-URL form.
  std::vector<load_request> requests;
  bool journey = false;
  std::vector<load_value> values;
  std::uint64_t seed = 1;
  // Responses carrying this header were answered by a fallback (a stale copy, a default) rather
  // than the dependency: ok for availability, a rejection for the circuit-breaker analysis.
  std::optional<header_match> fallback;
  std::chrono::nanoseconds timeout = std::chrono::seconds(2);
  load_shape shape;
  std::int64_t connections = 0;    // 0: opened on demand, up to max_auto_connections per worker
  std::uint64_t max_requests = 0;  // 0: no limit
  // Open model: the arrival timer wakes at most once per tick and sends all arrivals then due.
  std::chrono::nanoseconds tick = std::chrono::microseconds(100);

  static constexpr std::int64_t max_auto_connections = 1024;

  // Whether each request has a series of its own (load.<name>).
  bool named_requests() const { return !requests.empty() && !requests.front().name.empty(); }

  // From `load: { http: {...} }` parameters (http_load_params()), the requests and values, and
  // the shape the engine parsed from rate, users or stages. Throws param_error naming the
  // parameter ("requests[1].url" for one of the requests).
  static http_load_config from(const params& p, load_shape shape, const http_load_parts& parts = {});
};

// The series a load records into: `prefix` for every request, `prefix.<name>` for each named one.
struct load_series {
  timeline::recorder total;
  std::vector<timeline::recorder> requests;  // one per config request when they are named; else empty
};
load_series make_load_series(timeline& t, const http_load_config& config, std::string_view prefix = "load");

// Sorted, stable counter names; gauges are marked.
struct load_stats {
  std::uint64_t captures_failed_total = 0;     // journey: an ok response without the value to capture
  std::uint64_t connections_open = 0;          // gauge
  std::uint64_t connections_opened_total = 0;
  std::uint64_t journeys_completed_total = 0;  // journey: passes through every step
  std::uint64_t requests_completed_total = 0;  // a response or a failure came back
  std::uint64_t requests_dropped_total = 0;    // never sent: already older than the timeout when a
                                               // connection came free (recorded as timeouts)
  std::uint64_t requests_in_flight = 0;        // gauge
  std::uint64_t requests_late_total = 0;       // sent later than intended by more than 1 ms
  std::uint64_t requests_scheduled_total = 0;  // arrivals (open) or user requests (closed)
  std::uint64_t requests_sent_total = 0;
};

class load_generator {
public:
  // One worker per executor. An executor must run one handler at a time: an io_context run by
  // one thread (one per worker for more throughput), or a strand.
  load_generator(std::vector<boost::asio::any_io_executor> executors, std::shared_ptr<const http_load_config> config,
                 load_series series);
  load_generator(std::vector<boost::asio::any_io_executor> executors, std::shared_ptr<const http_load_config> config,
                 timeline::recorder series)
      : load_generator(std::move(executors), std::move(config), load_series{series, {}}) {}
  ~load_generator();
  load_generator(const load_generator&) = delete;
  load_generator& operator=(const load_generator&) = delete;

  // Called once, on one of the executors, when every worker has finished.
  void on_done(std::function<void()> f) { on_done_ = std::move(f); }
  // Starts the shape at `at`. Once only.
  void start(clock::time_point at = clock::now());
  // No new requests; those already due are still sent or dropped, in-flight ones finish (both
  // within the timeout). Thread-safe; done() turns true soon after.
  void stop();
  bool done() const { return running_workers_ == 0 && started_; }
  load_stats stats() const;
  const http_load_config& config() const { return *config_; }

  // The time at which the shape ends (max when its last stage holds until stopped).
  clock::time_point end_of_shape() const;

private:
  class worker;
  std::shared_ptr<const http_load_config> config_;
  load_series series_;
  std::unique_ptr<std::atomic<std::int64_t>[]> value_counters_;  // shared by the workers' value streams
  std::vector<std::unique_ptr<worker>> workers_;
  std::atomic<int> running_workers_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> scheduled_{0};  // across workers, for max_requests
  std::function<void()> on_done_;
  clock::time_point start_{};

  void worker_finished();
};

// The k-th arrival time (seconds from the stage start) of a stage whose rate goes linearly from
// `from` to `to` over `length` seconds (length <= 0: constant `from` forever), for cumulative
// arrival count `count` (fractional arrivals carry between stages). nullopt: not in this stage.
std::optional<double> arrival_time(double from, double to, double length, double count);

}  // namespace faultline::probes
