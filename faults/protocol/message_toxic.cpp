#include "faults/protocol/message_toxic.hpp"

#include "core/units.hpp"

#include <fmt/format.h>

namespace faultline::protocol {

std::vector<proxy::toxic_param> message_delay::params_for(const std::string& held) {
  return {
      // 0 by default, as latency's latency: the control API has always allowed leaving it out.
      proxy::duration_param("delay", "how long " + held + " is held", std::chrono::nanoseconds(0)),
      proxy::duration_param("jitter", "uniform +/- variation of the delay; at most the delay", std::chrono::nanoseconds(0)),
  };
}

message_delay::message_delay(const params& p) : delay_(p.duration("delay")), jitter_(p.duration("jitter")) {
  if (delay_.count() < 0) throw param_error("delay", "delay must be 0 or more");
  if (jitter_.count() < 0) throw param_error("jitter", "jitter must be 0 or more");
  if (jitter_ > delay_)
    throw param_error("jitter", "jitter is larger than the delay: delays would be cut off at 0; make jitter at most the delay");
}

proxy::duration message_delay::draw(std::mt19937_64& random) const {
  if (jitter_.count() <= 0) return delay_;
  auto offset = std::uniform_int_distribution<proxy::duration::rep>(-jitter_.count(), jitter_.count())(random);
  auto d = delay_ + proxy::duration(offset);
  return d.count() < 0 ? proxy::duration(0) : d;
}

void count_affected(proxy::toxic_counters& counters) { counters.messages_affected_total.fetch_add(1, std::memory_order_relaxed); }

void count_cut(proxy::toxic_counters& counters, bool reset) {
  (reset ? counters.connections_reset_total : counters.connections_closed_total).fetch_add(1, std::memory_order_relaxed);
}

proxy::time_point reply_hold::start(proxy::session_io& io) const {
  if (delays_.empty()) return {};
  proxy::duration total{};
  for (const auto& d : delays_) {
    count_affected(*d.counters);
    d.counters->delay_ns_total.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(d.delay).count()), std::memory_order_relaxed);
    total += d.delay;
  }
  return io.now() + total;
}

proxy::toxic_effect affected(const proxy::toxic_stats& s, std::string summary) {
  return {s.messages_affected_total > 0, std::move(summary)};
}

proxy::toxic_effect delayed(const proxy::toxic_stats& s) {
  auto average = s.messages_affected_total ? static_cast<double>(s.delay_ns_total) / static_cast<double>(s.messages_affected_total) / 1e9 : 0.0;
  // A delay of 0 acted on messages but had no effect to observe.
  return {s.messages_affected_total > 0 && s.delay_ns_total > 0,
          fmt::format("{} delayed by {} on average", s.messages_affected_total, format_seconds(average))};
}

}  // namespace faultline::protocol
