#pragma once
// The shop's counters, shared by all threads (relaxed atomics), and their rendering in the
// Prometheus text format for GET /metrics. Names and labels are listed in docs/shop.md.

#include "examples/shop/circuit_breaker.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace faultline::shop {

enum class route : int { orders, health, metrics, login, checkout, other };
inline constexpr int route_count = 6;

// How a request ended: ok (answered, from cache or database, 404 for an unknown order
// included), stale (answered from the stale copy), error (503: nothing to serve), shed (503:
// over --max-inflight), invalid (400/401/404/405: a request the shop does not serve).
enum class outcome : int { ok, stale, error, shed, invalid };
inline constexpr int outcome_count = 5;

enum class db_result : int { ok, not_found, error, timeout };
inline constexpr int db_result_count = 4;

// The dependencies behind a circuit breaker: the `dependency` label of the breaker series.
enum class dependency : int { postgres, payments };
inline constexpr int dependency_count = 2;
std::string_view to_string(dependency d);

// How one call to the payments API ended (docs/shop.md, POST /checkout).
enum class payment_result : int { authorized, rate_limited, error, timeout };
inline constexpr int payment_result_count = 4;

using counter = std::atomic<std::uint64_t>;

// Cumulative latency buckets in seconds, as Prometheus histograms have them.
class latency_histogram {
public:
  static constexpr std::array<double, 14> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,   5,    10};
  void record(std::chrono::nanoseconds latency);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  void render(std::string& out, const std::string& name, const std::string& labels) const;

private:
  std::array<counter, bounds.size()> buckets_{};  // not cumulative: bucket i holds (bound[i-1], bound[i]]
  counter count_{0};
  counter sum_ns_{0};
};

struct shop_metrics {
  std::array<std::array<counter, outcome_count>, route_count> requests{};
  std::array<latency_histogram, route_count> latency;

  counter cache_hits{0};
  counter cache_misses{0};  // no fresh copy, including a failed read
  counter cache_errors{0};  // reads that failed or timed out (also counted as misses)
  counter cache_writes_ok{0};
  counter cache_writes_failed{0};
  counter stale_hits{0};
  counter stale_misses{0};

  std::array<counter, db_result_count> db_queries{};
  counter db_retries{0};
  std::array<counter, payment_result_count> payments{};  // calls to the payments API by result

  struct breaker_counters {
    std::atomic<int> state{0};
    std::array<std::array<counter, 3>, 3> transitions{};  // [from][to]
    counter rejections{0};  // calls not made because the breaker refused them
  };
  std::array<breaker_counters, dependency_count> breakers{};

  std::atomic<std::int64_t> inflight{0};
  std::atomic<std::int64_t> connections_open{0};
  counter connections_accepted{0};
  counter connections_rejected{0};

  std::atomic<std::int64_t> websocket_sessions_open{0};
  counter websocket_sessions_accepted{0};
  counter websocket_sessions_rejected{0};  // over --max-websocket-sessions: 503 instead of the upgrade
  std::array<counter, outcome_count> websocket_messages{};  // by the outcome of the order read

  void count_request(route r, outcome o, std::chrono::nanoseconds latency);
  void count_transition(dependency d, const breaker_transition& t);
  breaker_counters& breaker(dependency d) { return breakers[static_cast<int>(d)]; }
  std::string render() const;
};

}  // namespace faultline::shop
