#include "faults/storm/storm_stats.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace faultline::storm {
namespace {

constexpr std::array<connection_outcome, outcome_count> all_outcomes{
    connection_outcome::established,      connection_outcome::refused,      connection_outcome::reset,
    connection_outcome::timed_out,        connection_outcome::handshake_failed, connection_outcome::closed_early,
    connection_outcome::local_error,
};

}  // namespace

std::int64_t storm_counts::finished() const {
  std::int64_t n = 0;
  for (auto v : outcomes) n += v;
  return n;
}

void storm_counts::add(const storm_counts& other) {
  attempts += other.attempts;
  cancelled += other.cancelled;
  for (std::size_t i = 0; i < outcome_count; ++i) outcomes[i] += other.outcomes[i];
  opened += other.opened;
  held += other.held;
  peak_held += other.peak_held;
  closed_by_storm += other.closed_by_storm;
  dropped_while_held += other.dropped_while_held;
}

nlohmann::json to_json(const storm_counts& c) {
  nlohmann::json outcomes = nlohmann::json::object();
  for (auto o : all_outcomes) outcomes[std::string(to_string(o))] = c[o];
  return {
      {"attempts", c.attempts},
      {"cancelled", c.cancelled},
      {"closed_by_storm", c.closed_by_storm},
      {"dropped_while_held", c.dropped_while_held},
      {"held", c.held},
      {"opened", c.opened},
      {"outcomes", std::move(outcomes)},
      {"peak_held", c.peak_held},
  };
}

storm_counts storm_counts_from_json(const nlohmann::json& j) {
  try {
    storm_counts c;
    c.attempts = j.at("attempts").get<std::int64_t>();
    c.cancelled = j.at("cancelled").get<std::int64_t>();
    c.closed_by_storm = j.at("closed_by_storm").get<std::int64_t>();
    c.dropped_while_held = j.at("dropped_while_held").get<std::int64_t>();
    c.held = j.at("held").get<std::int64_t>();
    c.opened = j.at("opened").get<std::int64_t>();
    c.peak_held = j.at("peak_held").get<std::int64_t>();
    for (auto o : all_outcomes) c[o] = j.at("outcomes").at(std::string(to_string(o))).get<std::int64_t>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("storm counts: ") + e.what());
  }
}

double storm_report::opened_per_second() const {
  const auto span = ramp.count() > 0 ? ramp : elapsed;
  if (span.count() <= 0) return 0;
  return static_cast<double>(counts.opened) / std::chrono::duration<double>(span).count();
}

void storm_report::add(const storm_report& other) {
  counts.add(other.counts);
  connect_latency.merge(other.connect_latency);
  handshake_latency.merge(other.handshake_latency);
  elapsed = std::max(elapsed, other.elapsed);
  ramp = std::max(ramp, other.ramp);
  peak_rss_bytes += other.peak_rss_bytes;
  workers += other.workers;
}

nlohmann::json to_json(const storm_report& r) {
  return {
      {"connect_latency", r.connect_latency.to_json()},
      {"counts", to_json(r.counts)},
      {"elapsed_ns", r.elapsed.count()},
      {"handshake_latency", r.handshake_latency.to_json()},
      {"peak_rss_bytes", r.peak_rss_bytes},
      {"ramp_ns", r.ramp.count()},
      {"workers", r.workers},
  };
}

storm_report storm_report_from_json(const nlohmann::json& j) {
  try {
    storm_report r;
    r.counts = storm_counts_from_json(j.at("counts"));
    r.connect_latency = compact_histogram::from_json(j.at("connect_latency"));
    r.handshake_latency = compact_histogram::from_json(j.at("handshake_latency"));
    r.elapsed = std::chrono::nanoseconds(j.at("elapsed_ns").get<std::int64_t>());
    r.ramp = std::chrono::nanoseconds(j.at("ramp_ns").get<std::int64_t>());
    r.peak_rss_bytes = j.at("peak_rss_bytes").get<std::int64_t>();
    r.workers = j.at("workers").get<std::int64_t>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("storm report: ") + e.what());
  }
}

}  // namespace faultline::storm
