#include "examples/shop/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace faultline::shop {

namespace {

constexpr auto relaxed = std::memory_order_relaxed;
constexpr std::array<const char*, route_count> route_names{"/orders/{id}", "/health", "/metrics", "/login",
                                                              "/checkout", "other"};
constexpr std::array<const char*, outcome_count> outcome_names{"ok", "stale", "error", "shed", "invalid"};
constexpr std::array<const char*, db_result_count> db_result_names{"ok", "not_found", "error", "timeout"};
constexpr std::array<const char*, payment_result_count> payment_result_names{"authorized", "rate_limited", "error",
                                                                           "timeout"};
constexpr std::array<breaker_state, 3> states{breaker_state::closed, breaker_state::open, breaker_state::half_open};

void header(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, const char* name, const std::string& labels, auto value) {
  if (labels.empty())
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  else
    fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, value);
}

}  // namespace

std::string_view to_string(dependency d) { return d == dependency::postgres ? "postgres" : "payments"; }

void latency_histogram::record(std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
  if (bucket < static_cast<std::ptrdiff_t>(bounds.size())) buckets_[bucket].fetch_add(1, relaxed);
  count_.fetch_add(1, relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0)), relaxed);
}

void latency_histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  // Read the count first: buckets recorded meanwhile can only make +Inf >= the finite buckets.
  const std::uint64_t total = count_.load(relaxed);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(relaxed);
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, bounds[i],
                   std::min(cumulative, total));
  }
  fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, total);
  fmt::format_to(std::back_inserter(out), "{}_sum{{{}}} {:.9f}\n", name, labels, sum_ns_.load(relaxed) / 1e9);
  fmt::format_to(std::back_inserter(out), "{}_count{{{}}} {}\n", name, labels, total);
}

void shop_metrics::count_request(route r, outcome o, std::chrono::nanoseconds elapsed) {
  requests[static_cast<int>(r)][static_cast<int>(o)].fetch_add(1, relaxed);
  latency[static_cast<int>(r)].record(elapsed);
}

void shop_metrics::count_transition(dependency d, const breaker_transition& t) {
  breaker_counters& b = breaker(d);
  b.transitions[static_cast<int>(t.from)][static_cast<int>(t.to)].fetch_add(1, relaxed);
  b.state.store(static_cast<int>(t.to), relaxed);
}

std::string shop_metrics::render() const {
  std::string out;
  out.reserve(8192);

  header(out, "shop_requests_total", "counter", "HTTP requests by route and outcome (ok, stale, error, shed, invalid).");
  for (int r = 0; r < route_count; ++r)
    for (int o = 0; o < outcome_count; ++o)
      sample(out, "shop_requests_total", fmt::format("route=\"{}\",outcome=\"{}\"", route_names[r], outcome_names[o]),
             requests[r][o].load(relaxed));

  header(out, "shop_request_duration_seconds", "histogram", "Time from a request read to its response written.");
  for (int r = 0; r < route_count; ++r)
    latency[r].render(out, "shop_request_duration_seconds", fmt::format("route=\"{}\"", route_names[r]));

  header(out, "shop_breaker_state", "gauge", "Circuit breaker state: 0 closed, 1 open, 2 half-open.");
  for (int d = 0; d < dependency_count; ++d)
    sample(out, "shop_breaker_state", fmt::format("dependency=\"{}\"", to_string(dependency(d))),
           breakers[d].state.load(relaxed));
  header(out, "shop_breaker_transitions_total", "counter", "Circuit breaker transitions by from and to state.");
  for (int d = 0; d < dependency_count; ++d)
    for (auto from : states)
      for (auto to : states)
        if (from != to)
          sample(out, "shop_breaker_transitions_total",
                 fmt::format("dependency=\"{}\",from=\"{}\",to=\"{}\"", to_string(dependency(d)), to_string(from),
                             to_string(to)),
                 breakers[d].transitions[static_cast<int>(from)][static_cast<int>(to)].load(relaxed));
  header(out, "shop_breaker_rejections_total", "counter", "Calls not made because the breaker refused them.");
  for (int d = 0; d < dependency_count; ++d)
    sample(out, "shop_breaker_rejections_total", fmt::format("dependency=\"{}\"", to_string(dependency(d))),
           breakers[d].rejections.load(relaxed));

  header(out, "shop_db_queries_total", "counter", "PostgreSQL order queries (each try) by result.");
  for (int i = 0; i < db_result_count; ++i)
    sample(out, "shop_db_queries_total", fmt::format("result=\"{}\"", db_result_names[i]), db_queries[i].load(relaxed));
  header(out, "shop_db_retries_total", "counter", "PostgreSQL tries after the first.");
  sample(out, "shop_db_retries_total", std::string{}, db_retries.load(relaxed));

  header(out, "shop_payments_total", "counter", "Calls to the payments API (POST /payments) by result.");
  for (int i = 0; i < payment_result_count; ++i)
    sample(out, "shop_payments_total", fmt::format("result=\"{}\"", payment_result_names[i]), payments[i].load(relaxed));

  const auto hits = cache_hits.load(relaxed), misses = cache_misses.load(relaxed);
  header(out, "shop_cache_hits_total", "counter", "Order reads answered by a fresh copy in Redis.");
  sample(out, "shop_cache_hits_total", std::string{}, hits);
  header(out, "shop_cache_misses_total", "counter", "Order reads without a fresh copy (failed reads included).");
  sample(out, "shop_cache_misses_total", std::string{}, misses);
  header(out, "shop_cache_errors_total", "counter", "Redis reads that failed or timed out.");
  sample(out, "shop_cache_errors_total", std::string{}, cache_errors.load(relaxed));
  header(out, "shop_cache_hit_ratio", "gauge", "hits / (hits + misses) since start; 0 before the first read.");
  sample(out, "shop_cache_hit_ratio", std::string{},
         hits + misses == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(hits + misses));
  header(out, "shop_cache_writes_total", "counter", "Redis writes of fresh and stale copies by result.");
  sample(out, "shop_cache_writes_total", "result=\"ok\"", cache_writes_ok.load(relaxed));
  sample(out, "shop_cache_writes_total", "result=\"error\"", cache_writes_failed.load(relaxed));
  header(out, "shop_stale_reads_total", "counter", "Fallback reads of the stale copy by result.");
  sample(out, "shop_stale_reads_total", "result=\"hit\"", stale_hits.load(relaxed));
  sample(out, "shop_stale_reads_total", "result=\"miss\"", stale_misses.load(relaxed));

  header(out, "shop_inflight_requests", "gauge", "Order requests being served now.");
  sample(out, "shop_inflight_requests", std::string{}, inflight.load(relaxed));
  header(out, "shop_connections_open", "gauge", "Client connections open now.");
  sample(out, "shop_connections_open", std::string{}, connections_open.load(relaxed));
  header(out, "shop_connections_total", "counter", "Client connections accepted and rejected (over --max-connections).");
  sample(out, "shop_connections_total", "result=\"accepted\"", connections_accepted.load(relaxed));
  sample(out, "shop_connections_total", "result=\"rejected\"", connections_rejected.load(relaxed));

  header(out, "shop_websocket_sessions_open", "gauge", "Live order sessions (WebSocket, /orders/live) open now.");
  sample(out, "shop_websocket_sessions_open", std::string{}, websocket_sessions_open.load(relaxed));
  header(out, "shop_websocket_sessions_total", "counter",
         "Live order sessions accepted and rejected (503 over --max-websocket-sessions).");
  sample(out, "shop_websocket_sessions_total", "result=\"accepted\"", websocket_sessions_accepted.load(relaxed));
  sample(out, "shop_websocket_sessions_total", "result=\"rejected\"", websocket_sessions_rejected.load(relaxed));
  header(out, "shop_websocket_messages_total", "counter", "Live order messages answered, by outcome.");
  for (int o = 0; o < outcome_count; ++o)
    sample(out, "shop_websocket_messages_total", fmt::format("outcome=\"{}\"", outcome_names[o]),
           websocket_messages[o].load(relaxed));
  return out;
}

}  // namespace faultline::shop
