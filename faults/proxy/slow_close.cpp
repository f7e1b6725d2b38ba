#include "faults/proxy/slow_close.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

namespace faultline::proxy {

const toxic_descriptor& slow_close_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "slow_close",
      .summary = "delay the close of the connection",
      .params = {duration_param("delay", "delay before the close is passed on", std::chrono::nanoseconds(0))},
      .make = made_of<slow_close_toxic>(),
      .describe = [](const toxic_stats& s) {
        return toxic_effect{s.closes_delayed_total > 0, fmt::format("{} passed on late", plural(s.closes_delayed_total, "close", "closes"))};
      },
  };
  return d;
}

slow_close_toxic::slow_close_toxic(const params& p) : toxic(type_descriptor(), p), delay_(p.duration("delay")) {}

slow_close_toxic::slow_close_toxic(duration delay) : slow_close_toxic(settings_of({{"delay", delay}})) {}

void slow_close_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp;
  io.pass(std::move(c), at);
}

void slow_close_toxic::on_eof(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp + delay_;
  io.pass(std::move(c), at);
}

}  // namespace faultline::proxy
