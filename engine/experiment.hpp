#pragma once
// The experiment model: plain, immutable structs produced by the loader from YAML. Everything the
// runner, the analysis and the reports need to know about what was asked for.

#include "core/address.hpp"
#include "core/params.hpp"
#include "engine/rule.hpp"
#include "engine/source.hpp"
#include "faults/proxy/tls_config.hpp"
#include "probes/load_shape.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace faultline::faults {
struct fault_type;
}
namespace faultline::probes {
struct http_load_config;
}

namespace faultline::engine {

using std::chrono::nanoseconds;

struct proxy_spec {
  std::string name;
  address listen;
  address upstream;
  std::string protocol = "tcp";  // tcp | postgres | redis
  bool allow_non_loopback = false;
  proxy::tls_settings tls;  // tls and upstream_tls, read by the proxy's own parser
  source_mark where;
};

struct load_spec {
  std::string type = "http";  // the load generator's protocol
  params parameters;          // validated against probes::http_load_params()
  probes::load_shape shape;   // from rate, users or stages (or the levels)
  // The generator's configuration, built once by the loader (requests, values, CSV files read).
  std::shared_ptr<const probes::http_load_config> config;
  source_mark where;
};

// `load: { websocket: {...} }`: sessions exchanging messages, beside or instead of the HTTP load.
struct websocket_load_spec {
  params parameters;  // validated against probes::websocket_load_params()
  source_mark where;
};

// One step of `load.levels`: the load held at a number of users or a rate, with its own rules.
struct level_spec {
  std::string name;
  probes::load_stage stage;  // closed (users) or open (rate), with its duration
  std::vector<rule> require;
  source_mark where;
};

// How `faultline capacity` and expect.capacity search for the highest rate at which the rules
// hold (`load.capacity`; engine/capacity.hpp declares the keys).
struct capacity_search_spec {
  double from = 100;                 // first trial rate, per second
  double up_to = 20000;              // no trial above this
  double factor = 2;                 // each step up multiplies the rate by this
  double precision = 0.05;           // bisect until the bounds are this close (a fraction of the upper one)
  nanoseconds trial{std::chrono::seconds(10)};
  nanoseconds warmup{std::chrono::seconds(2)};   // the start of each trial that is not judged
  nanoseconds cooldown{std::chrono::seconds(2)}; // idle time between trials
  nanoseconds time_limit{std::chrono::minutes(5)};  // for each search (healthy, under fault)
  std::vector<rule> require;         // judged in each trial; empty: steady_state.require
};

struct probe_spec {
  std::string name;  // the series name used in rules ("health")
  std::string type;  // http, tcp, redis, postgres, command, metric
  params parameters;  // includes `every` and `timeout`
  source_mark where;
  bool latency_is_reading_cost = false;  // its probe type's (probes::probe_type)
};

struct steady_state_spec {
  nanoseconds hold_for{std::chrono::seconds(5)};
  std::optional<nanoseconds> timeout;  // how long to wait for it before the faults; default for + 30s
  std::vector<rule> require;
  nanoseconds wait_limit() const { return timeout.value_or(hold_for + std::chrono::seconds(30)); }
};

// How a fault step ends.
enum class step_end {
  after_duration,  // for: <duration>
  recovered,       // until: recovered (the system meets steady state again while faulted)
  manual,          // until: manual (the operator ends it; `for` bounds it when given)
  after_step,      // until: <step name> (when that step ends)
};

struct step {
  std::string name;     // `name:` or "<type>-<n>" (1-based position)
  std::size_t index = 0;
  nanoseconds at{};     // from the start of the fault phase
  bool is_action = false;
  std::string type;     // the fault or action type, as written
  // `type` in the registry the experiment was loaded with, resolved once by the loader: never null
  // in a loaded experiment; the registry outlives it.
  const faults::fault_type* fault_type = nullptr;
  std::string target;
  step_end end = step_end::after_duration;
  std::optional<nanoseconds> duration;  // `for`; the bound for recovered/manual
  std::string until_step;               // for step_end::after_step
  params parameters;
  source_mark where;
};

struct recovery_spec {
  nanoseconds timeout{std::chrono::seconds(60)};
  nanoseconds stable_for{std::chrono::seconds(3)};
};

struct timeline_spec {
  nanoseconds baseline{std::chrono::seconds(10)};
  std::vector<step> steps;
  recovery_spec recovery;
};

enum class sla_tier { none, bronze, silver, gold, platinum };

struct sla_target {
  sla_tier tier;
  double availability;  // fraction of ok requests, 0..1
  nanoseconds p95;
};

const char* to_string(sla_tier tier);
std::optional<sla_tier> sla_tier_from_string(std::string_view name);
sla_target sla_target_of(sla_tier tier);  // bronze 99.0%/1s ... platinum 99.95%/100ms

struct breaker_expectation {
  std::optional<nanoseconds> opens_within;   // from fault start
  std::optional<nanoseconds> closes_within;  // from the last fault revert
  std::optional<std::int64_t> max_flaps;
  std::string probe;  // a state probe (metric or JSON value); empty: seen from outside only
  source_mark where;
};

struct capacity_expectation {
  std::optional<double> at_least;             // healthy, per second
  std::optional<double> under_fault_at_least; // while the timeline's faults are active
  source_mark where;
};

struct expectations {
  std::optional<capacity_expectation> capacity;
  std::optional<sla_tier> sla;
  source_mark sla_where;
  std::vector<rule> during_fault;
  std::optional<breaker_expectation> breaker;
  std::optional<nanoseconds> mttd_below;
  std::optional<nanoseconds> mttr_below;
  source_mark mttr_where;
  std::optional<double> score_at_least;
};

struct run_settings {
  nanoseconds window{std::chrono::seconds(1)};
  nanoseconds fast_failure{std::chrono::milliseconds(50)};  // errors faster than this are "fast"
  int repeat = 1;  // runs per `faultline run` (its --repeat overrides), each from a clean start
  std::optional<address> metrics;            // serve the run's Prometheus metrics here (--metrics wins)
  bool metrics_allow_non_loopback = false;
};

struct experiment {
  std::filesystem::path file;
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::vector<proxy_spec> proxies;
  std::optional<load_spec> load;  // load.http (series "load", "load.<request>")
  std::optional<websocket_load_spec> websocket_load;  // load.websocket (series "load.websocket", "load.websocket.sessions")
  std::vector<level_spec> levels;  // load.levels: run in order in place of a fault timeline
  capacity_search_spec capacity;   // load.capacity
  std::vector<probe_spec> probes;
  steady_state_spec steady_state;
  timeline_spec timeline;
  std::vector<rule> abort_when;
  expectations expect;
  run_settings settings;
  std::string resolved_yaml;  // the document after ${VAR} substitution, for the journal

  const proxy_spec* find_proxy(std::string_view name) const;
  const probe_spec* find_probe(std::string_view name) const;
  const step* find_step(std::string_view name) const;
  // A capacity run searches for the highest rate (expect.capacity, or `faultline capacity`).
  bool is_capacity_run() const { return expect.capacity.has_value(); }
  // The fault phase's planned length: the latest end of any step with a known end.
  nanoseconds planned_fault_phase() const;
};

// A suite: experiments run in order with one summary.
struct suite {
  std::filesystem::path file;  // the suite file, or the directory
  std::string name;
  std::vector<std::filesystem::path> experiments;
};

}  // namespace faultline::engine
