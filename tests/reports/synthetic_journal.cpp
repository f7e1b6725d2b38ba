#include "tests/reports/synthetic_journal.hpp"

#include "probes/timeline.hpp"
#include "reports/format.hpp"
#include "reports/windows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace faultline::test {

using namespace reports;

namespace {

// A small deterministic generator, so the journal is the same on every machine.
class jitter {
public:
  // A factor in [1 - spread, 1 + spread].
  double factor(double spread) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    double unit = static_cast<double>(state_ >> 11) / static_cast<double>(1ULL << 53);
    return 1 + spread * (2 * unit - 1);
  }

private:
  std::uint64_t state_ = 42;
};

struct latency_shape {
  double p50, p95, p99;
};

void fill_latency(window_point& w, latency_shape s, jitter& rng) {
  double k = rng.factor(0.08);
  double p50 = s.p50 * k;
  double p95 = std::max(p50 * 1.2, s.p95 * rng.factor(0.08));
  w.min = p50 * 0.45;
  w.p50 = p50;
  w.p75 = p50 + (p95 - p50) * 0.35;
  w.mean = p50 + (p95 - p50) * 0.25;
  w.p90 = p50 + (p95 - p50) * 0.7;
  w.p95 = p95;
  w.p99 = std::max(p95 * 1.05, s.p99 * rng.factor(0.1));
  w.p999 = *w.p99 * 1.25;
  w.max = *w.p999 * 1.1;
}

window_point load_window(int t, jitter& rng) {
  window_point w;
  w.start = t;
  w.count = 198 + static_cast<std::uint64_t>(t % 5);
  latency_shape shape{0.018, 0.042, 0.065};
  std::uint64_t errors = 0;
  std::string error_kind = "http_5xx";
  bool fast = false;
  if (t == 15) {  // PostgreSQL slow, but the cache still answers most reads: within steady state
    shape = {0.024, 0.15, 0.62};
  } else if (t == 16) {  // the cache's short TTL expires: everything waits on PostgreSQL, breaker still closed
    shape = {0.82, 0.905, 0.98};
    errors = 3;
    error_kind = "timeout";
  } else if (t == 27) {  // half-open trial against a still slow database
    shape = {0.026, 0.31, 0.85};
    errors = 4;
    fast = true;
  } else if (t >= 25 && t < 35) {  // Redis down and breaker open: cache misses fail fast
    shape = {0.024, 0.07, 0.13};
    errors = 3 + static_cast<std::uint64_t>(t % 2);
    fast = true;
  } else if (t >= 17 && t < 45) {  // served from cache
    shape = {0.021, 0.047, 0.091};
    errors = static_cast<std::uint64_t>(t % 2);
  } else if (t >= 45 && t < 49) {  // recovering: breaker half-open, then closed, warming up
    shape = {0.03 - 0.002 * (t - 45), 0.16 - 0.025 * (t - 45), 0.42 - 0.08 * (t - 45)};
    errors = static_cast<std::uint64_t>(5 - (t - 45));
  }
  fill_latency(w, shape, rng);
  w.errors = errors;
  if (fast) w.fast_failures = errors;
  w.outcomes["ok"] = w.count - errors;
  if (errors > 0) w.outcomes[error_kind] = errors;
  return w;
}

window_point health_window(int t, jitter& rng) {
  window_point w;
  w.start = t;
  w.count = 2;
  if (t == 16) {
    w.errors = 2;
    w.outcomes["timeout"] = 2;
    fill_latency(w, {1.0, 1.0, 1.0}, rng);
  } else if (t == 27) {
    w.errors = 1;
    w.outcomes["ok"] = 1;
    w.outcomes["http_5xx"] = 1;
    fill_latency(w, {0.006, 0.3, 0.3}, rng);
  } else {
    w.outcomes["ok"] = 2;
    fill_latency(w, {0.005, 0.008, 0.009}, rng);
  }
  return w;
}

// The breaker as the service reports it: 0 closed, 1 open, 2 half-open (its state at the window's end).
double breaker_value(int t) {
  if (t >= 17 && t < 27) return 1;
  if (t == 27) return 2;
  if (t >= 28 && t < 46) return 1;
  if (t >= 46 && t < 48) return 2;
  return 0;
}

window_point breaker_window(int t, jitter& rng) {
  window_point w;
  w.start = t;
  w.count = 2;
  w.outcomes["ok"] = 2;
  fill_latency(w, {0.003, 0.004, 0.005}, rng);
  w.value = breaker_value(t);
  return w;
}

// A count-weighted quantile of per-window quantiles: close enough to the merged histogram's for test data.
std::optional<double> weighted(const std::vector<const window_point*>& ws, std::optional<double> window_point::*field, double q) {
  std::vector<std::pair<double, double>> values;
  double total = 0;
  for (const auto* w : ws)
    if (w->*field && w->count > 0) {
      values.emplace_back(*(w->*field), static_cast<double>(w->count));
      total += static_cast<double>(w->count);
    }
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  double seen = 0;
  for (const auto& [v, n] : values) {
    seen += n;
    if (seen >= q * total) return v;
  }
  return values.back().first;
}

phase_stat stat_of(const series_record& s, const phase_span& p) {
  std::vector<const window_point*> ws;
  for (const auto& w : s.windows)
    if (w.start >= p.start && w.start < p.end) ws.push_back(&w);
  phase_stat st;
  st.series = s.name;
  st.phase = p.name;
  for (const auto* w : ws) {
    st.count += w->count;
    st.errors += w->errors;
  }
  st.error_rate = st.count ? static_cast<double>(st.errors) / static_cast<double>(st.count) : 0;
  st.availability = 1 - st.error_rate;
  st.rps = static_cast<double>(st.count) / (p.end - p.start);
  st.min = weighted(ws, &window_point::min, 0);
  st.mean = weighted(ws, &window_point::mean, 0.5);
  st.p50 = weighted(ws, &window_point::p50, 0.5);
  st.p75 = weighted(ws, &window_point::p75, 0.75);
  st.p90 = weighted(ws, &window_point::p90, 0.9);
  st.p95 = weighted(ws, &window_point::p95, 0.95);
  st.p99 = weighted(ws, &window_point::p99, 0.99);
  st.p999 = weighted(ws, &window_point::p999, 0.999);
  st.max = weighted(ws, &window_point::max, 1);
  return st;
}

// The latency at quantile q of a window shaped like `w` (linear between its percentiles).
double latency_at(const window_point& w, double q) {
  const std::pair<double, double> knots[] = {{0, *w.min},     {0.5, *w.p50},   {0.75, *w.p75},  {0.9, *w.p90},
                                             {0.95, *w.p95},  {0.99, *w.p99},  {0.999, *w.p999}, {1, *w.max}};
  for (std::size_t i = 1; i < std::size(knots); ++i)
    if (q <= knots[i].first) {
      const auto& [q0, v0] = knots[i - 1];
      const auto& [q1, v1] = knots[i];
      return v0 + (v1 - v0) * (q - q0) / (q1 - q0);
    }
  return *w.max;
}

// A sample's latency: the middle of its quantile band, so a window holds a few distinct latencies
// (a small journal) that still follow its percentiles.
double banded_latency(const window_point& w, double q) {
  constexpr double bands[] = {0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.97, 0.99, 0.995, 0.999, 1};
  for (std::size_t i = 1; i < std::size(bands); ++i)
    if (q < bands[i]) return latency_at(w, (bands[i - 1] + bands[i]) / 2);
  return *w.max;
}

// Records the samples of a window shaped like `w` at second `w.start`, spread over the window:
// latencies follow its percentiles; failed samples are the fastest (when they fail fast, as an
// open breaker does) or the slowest; an extracted value is the window's last.
void record(probes::timeline& timeline, const std::string& series, const window_point& w) {
  const auto n = static_cast<std::size_t>(w.count);
  const bool fast = w.fast_failures > 0;
  std::vector<probes::outcome> results(n, probes::outcome::ok);
  std::size_t k = 0;
  for (const auto& [name, count] : w.outcomes) {
    if (name == "ok") continue;
    for (std::uint64_t i = 0; i < count; ++i, ++k) results[fast ? k : n - 1 - k] = *probes::outcome_from_string(name);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double q = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
    const auto at = timeline.start() + std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(w.start + q));
    probes::sample s{at, at, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(banded_latency(w, q))), results[i], w.value};
    timeline.record(series, s);
  }
}

constexpr const char* resolved_yaml = R"yaml(version: 1
name: checkout-db-slowness
description: Orders API keeps serving from cache when PostgreSQL answers slowly and Redis goes away
tags: [database, cache, game-day]
proxies:
  postgres: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432, protocol: postgres }
  redis:    { listen: 127.0.0.1:16379, upstream: 127.0.0.1:6379, protocol: redis }
load:
  http: { url: http://127.0.0.1:8080/orders/42, rate: 200/s, timeout: 2s }
probes:
  health:  { http: { url: http://127.0.0.1:8080/health, every: 500ms, timeout: 1s, expect: { status: 200 } } }
  breaker: { metric: { url: http://127.0.0.1:8080/metrics, series: 'shop_breaker_state{dependency="postgres"}', every: 500ms } }
steady_state:
  for: 5s
  require: [ "load.error_rate < 1%", "load.p95 < 200ms", "health.ok" ]
timeline:
  baseline: 10s
  steps:
    - { name: pg-latency, at: 0s, for: 30s, fault: latency, target: postgres, latency: 800ms, jitter: 100ms }
    - { name: redis-outage, at: 10s, for: 10s, fault: down, target: redis }
    - { name: warm-cache, at: 23s, action: command, run: ./runbooks/warm-cache.sh, timeout: 30s }
  recovery: { timeout: 60s, stable_for: 3s }
expect:
  sla: gold
  during_fault: [ "load.error_rate < 5%" ]
  breaker: { opens_within: 5s, closes_within: 10s, probe: breaker }
  mttr: { below: 10s }
  score: { at_least: 75 }
)yaml";

}  // namespace

journal synthetic_journal() {
  journal j;
  j.run_id = "20260314T093000Z-checkout-db-slowness-7f3a";
  j.experiment = {"checkout-db-slowness", "experiments/checkout-db-slowness.yaml",
                  "Orders API keeps serving from cache when PostgreSQL answers slowly and Redis goes away",
                  {"database", "cache", "game-day"}, resolved_yaml};
  j.environment = {"ci-runner-7", "6.1.0-18-amd64", "Debian GNU/Linux 12 (bookworm)", "0.1.0",
                   {{"pg-latency", "proxy"}, {"redis-outage", "proxy"}}};
  j.started_at = "2026-03-14T09:30:00.000Z";
  j.ended_at = "2026-03-14T09:30:57.412Z";
  j.window = 1;
  j.phases = {{"steady_before", 0, 5}, {"baseline", 5, 15}, {"fault", 15, 45}, {"recovery", 45, 52}, {"after", 52, 57}};

  fault_record pg;
  pg.step = "pg-latency";
  pg.type = "latency";
  pg.target = "postgres";
  pg.params = {{"latency", "800ms"}, {"jitter", "100ms"}};
  pg.injected_at = 15.0;
  pg.reverted_at = 45.0;
  pg.engine = "proxy";
  pg.evidence.observed = true;
  pg.evidence.summary = "delayed 6,118 responses by 806ms on average on 24 connections";
  pg.evidence.details = {{"connections", 24}, {"responses_delayed", 6118}, {"mean_added_latency_ms", 806.4}, {"bytes_delayed", 18734112}};

  fault_record redis;
  redis.step = "redis-outage";
  redis.type = "down";
  redis.target = "redis";
  redis.injected_at = 25.0;
  redis.reverted_at = 35.0;
  redis.engine = "proxy";
  redis.evidence.observed = true;
  redis.evidence.summary = "refused 1,904 new connections and closed 16 open ones";
  redis.evidence.details = {{"connections_refused", 1904}, {"connections_closed", 16}};

  fault_record action;
  action.step = "warm-cache";
  action.type = "command";
  action.action = true;
  action.params = {{"run", "./runbooks/warm-cache.sh"}, {"timeout", "30s"}};
  action.injected_at = 38.0;
  action.reverted_at = 39.4;
  action.evidence.observed = true;
  action.evidence.summary = "exit code 0 after 1.4s";
  action.evidence.details = {{"exit_code", 0}, {"duration_s", 1.4}};
  action.output = "warming 512 hot keys from the orders table\n512/512 keys written\ndone in 1.4s\n";
  j.faults = {pg, redis, action};

  // The windows are recorded into a real Timeline, as a run records them; the series are
  // derived from it as the journal reader derives them.
  probes::timeline timeline(probes::clock::time_point{},
                            probes::timeline_options{std::chrono::seconds(1), std::chrono::milliseconds(2250), std::chrono::milliseconds(50)});
  jitter rng;
  for (int t = 0; t < 57; ++t) {
    record(timeline, "load", load_window(t, rng));
    record(timeline, "health", health_window(t, rng));
    record(timeline, "breaker", breaker_window(t, rng));
  }
  timeline.mark(probes::phase::baseline, std::chrono::seconds(5));
  timeline.mark(probes::phase::fault, std::chrono::seconds(15));
  timeline.mark(probes::phase::recovery, std::chrono::seconds(45));
  timeline.mark(probes::phase::after, std::chrono::seconds(52));
  timeline.finish(std::chrono::seconds(57));
  for (auto [name, kind] : {std::pair{"load", "load"}, {"health", "http"}, {"breaker", "metric"}})
    j.series.push_back({name, kind, series_windows(timeline, name, 57)});
  j.timeline = timeline.to_json();

  for (const auto& s : j.series) {
    std::optional<phase_stat> baseline;
    for (const auto& p : j.phases) {
      auto st = stat_of(s, p);
      if (p.name == "baseline") baseline = st;
      if (baseline && p.name != "baseline" && p.name != "steady_before") {
        if (baseline->p95 && st.p95) st.p95_ratio = *st.p95 / *baseline->p95;
        st.error_rate_delta = st.error_rate - baseline->error_rate;
      }
      j.analysis.phase_stats.push_back(st);
    }
  }
  const phase_stat* fault = nullptr;
  for (const auto& st : j.analysis.phase_stats)
    if (st.series == "load" && st.phase == "fault") fault = &st;

  j.analysis.mttd = 1.0;
  j.analysis.mttd_resolution = 0.02;
  j.analysis.mttr = 4.0;
  j.analysis.mttr_resolution = 0.2;
  j.analysis.recovered = true;
  breaker_record b;
  b.source = "probe:breaker";
  b.transitions = {{15.612, "closed", "open", 0.02, "probe+load"},
                   {27, "open", "half_open", 0.02, "probe+load"},
                   {27.3, "half_open", "open", 0.02, "load"},
                   {46, "open", "half_open", 0.02, "probe+load"},
                   {48, "half_open", "closed", 0.2, "probe"}};
  b.time_to_open = 0.612;
  b.time_to_open_resolution = 0.02;
  b.time_to_close = 3.0;
  b.time_to_close_resolution = 0.2;
  b.flaps = 1;
  b.cross_check = "the load's responses showed 4 of the 4 transitions the state probe saw, and 1 re-opening it sampled past";
  j.analysis.breaker = b;
  j.analysis.sla_tier = "bronze";

  // Named, worded and weighted as engine/analysis does (docs/analysis.md).
  auto& ex = j.analysis.expectations;
  ex.push_back({"sla", "SLA tier gold during the fault (availability >= 99.9%, p95 <= 200ms)", ">= gold",
                fmt::format("bronze (availability {:.3f}%, p95 {})", fault->availability * 100, format_seconds(*fault->p95)), 1, false,
                1.0 / 3, 3});
  ex.push_back({"during_fault[0]", "load.error_rate < 5% during the fault", "< 5%", fmt::format("{:.3g}%", fault->error_rate * 100),
                fault->error_rate, true, 1, 1});
  ex.push_back({"breaker.opens_within", "the breaker opens after the fault starts", "<= 5s", "2s", 2.0, true, 1, 1});
  ex.push_back({"breaker.closes_within", "the breaker closes after the fault ends", "<= 10s", "3s", 3.0, true, 1, 1});
  ex.push_back({"mttr", "time to recover: last revert to the start of a stable run of steady windows", "<= 10s", "4s", 4.0, true, 1, 2});
  ex.push_back({"steady_after", "the steady-state rules hold in the after phase", "every window steady", "5 of 5 windows steady", 1.0, true,
                1, 1});
  for (const auto& f : j.faults) {
    if (f.action) continue;
    ex.push_back({"effect:" + f.step, fmt::format("fault '{}' ({} on {}) took effect", f.step, f.type, f.target), "observed",
                  "observed: " + f.evidence.summary, std::nullopt, true, 1, 0});
  }
  double weighted_sum = 0, weights = 0;
  for (const auto& e : ex) {
    weighted_sum += e.grade * e.weight;
    weights += e.weight;
  }
  j.analysis.score = weighted_sum / weights * 100;
  ex.push_back({"score", "resilience score", ">= 75", fmt::format("{:.1f}", j.analysis.score), j.analysis.score, true, 1, 0});
  j.verdict = {"failed", 1, fmt::format("1 of {} expectations missed: sla (measured {}, target >= gold)", ex.size(), ex.front().measured)};
  return j;
}

reports::fault_record http_fault_with_routes() {
  reports::fault_record f;
  f.step = "rate-limit";
  f.type = "http_rate_limit";
  f.target = "payments";
  f.injected_at = 15;
  f.reverted_at = 21;
  f.evidence = {true, "http_rate_limit: 3,010 requests seen, 2,990 matched, 2,960 refused",
                nlohmann::json::parse(R"({"seen": 3010, "matched": 2990, "affected": 2960, "routes": {
                  "GET /health": {"seen": 20, "matched": 0, "affected": 0},
                  "POST /payments": {"seen": 2990, "matched": 2990, "affected": 2960}}})")};
  return f;
}

}  // namespace faultline::test
