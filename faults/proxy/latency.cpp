#include "faults/proxy/latency.hpp"

#include "core/units.hpp"
#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

namespace faultline::proxy {

const toxic_descriptor& latency_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "latency",
      .summary = "delay data by latency +/- jitter",
      .params = {
          duration_param("latency", "added delay", std::chrono::nanoseconds(0)),
          duration_param("jitter", "uniform +/- variation; at most the latency", std::chrono::nanoseconds(0)),
      },
      .validate = [](const params& p, const param_shown& show) {
        if (p.duration("jitter") > p.duration("latency"))
          throw param_error("jitter", fmt::format("{} is larger than {}: delays would be cut off at 0; make jitter at most the latency",
                                                  show("jitter"), show("latency")));
      },
      .make = made_of<latency_toxic>(),
      .describe = [](const toxic_stats& s) {
        auto average = s.chunks_delayed_total ? static_cast<double>(s.delay_ns_total) / static_cast<double>(s.chunks_delayed_total) / 1e9 : 0.0;
        return toxic_effect{s.chunks_delayed_total > 0,
                            fmt::format("{} ({}) delayed by {} on average on {}", plural(s.chunks_delayed_total, "chunk", "chunks"),
                                        bytes_text(s.bytes_delayed_total), format_seconds(average), links_text(s))};
      },
  };
  return d;
}

latency_toxic::latency_toxic(const params& p)
    : toxic(type_descriptor(), p), latency_(p.duration("latency")), jitter_(p.duration("jitter")) {}

latency_toxic::latency_toxic(duration latency, duration jitter) : latency_toxic(settings_of({{"latency", latency}, {"jitter", jitter}})) {}

void latency_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  auto delay = latency_;
  if (jitter_.count() > 0) {
    std::uniform_int_distribution<duration::rep> spread(-jitter_.count(), jitter_.count());
    delay += duration(spread(io.random()));
  }
  auto at = c.stamp + std::max(delay, duration::zero());
  io.pass(std::move(c), at);
}

}  // namespace faultline::proxy
