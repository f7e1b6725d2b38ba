#include "faults/proxy/timeout.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

namespace faultline::proxy {

const toxic_descriptor& timeout_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "timeout",
      .summary = "stop all data and close after the timeout (0: never close)",
      .params = {duration_param("timeout", "time before the connection is closed", std::chrono::nanoseconds(0))},
      .make = made_of<timeout_toxic>(),
      .describe = [](const toxic_stats& s) {
        return toxic_effect{s.bytes_dropped_total > 0 || s.connections_closed_total > 0,
                            fmt::format("{} dropped, {} closed on {}", bytes_text(s.bytes_dropped_total),
                                        plural(s.connections_closed_total, "connection", "connections"), links_text(s))};
      },
  };
  return d;
}

timeout_toxic::timeout_toxic(const params& p) : toxic(type_descriptor(), p), timeout_(p.duration("timeout")) {}

timeout_toxic::timeout_toxic(duration timeout) : timeout_toxic(settings_of({{"timeout", timeout}})) {}

void timeout_toxic::on_data(chunk c, toxic_state*, stage_io& io) const { io.drop(c); }

void timeout_toxic::on_start(toxic_state*, stage_io& io) const {
  if (timeout_ > duration::zero()) io.close_at(io.now() + timeout_);
}

void timeout_toxic::on_stop(toxic_state*, stage_io& io) const { io.close_at(io.now()); }

}  // namespace faultline::proxy
