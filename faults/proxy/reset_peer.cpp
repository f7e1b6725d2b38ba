#include "faults/proxy/reset_peer.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

namespace faultline::proxy {

const toxic_descriptor& reset_peer_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "reset_peer",
      .summary = "reset the connection (RST) after the timeout",
      .params = {duration_param("timeout", "time before the reset", std::chrono::nanoseconds(0))},
      .make = made_of<reset_peer_toxic>(),
      .describe = [](const toxic_stats& s) {
        return toxic_effect{s.connections_reset_total > 0,
                            fmt::format("{} reset", plural(s.connections_reset_total, "connection", "connections"))};
      },
  };
  return d;
}

reset_peer_toxic::reset_peer_toxic(const params& p) : toxic(type_descriptor(), p), timeout_(p.duration("timeout")) {}

reset_peer_toxic::reset_peer_toxic(duration timeout) : reset_peer_toxic(settings_of({{"timeout", timeout}})) {}

// The first arrival sets the reset time; later ones keep it (reset_at keeps the earliest).
void reset_peer_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  io.reset_at(c.stamp + timeout_);
  io.drop(c);
}

void reset_peer_toxic::on_eof(chunk c, toxic_state*, stage_io& io) const {
  io.reset_at(c.stamp + timeout_);
  io.drop(c);
}

}  // namespace faultline::proxy
