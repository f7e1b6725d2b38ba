#include "faults/proxy/blackhole.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

namespace faultline::proxy {

const toxic_descriptor& blackhole_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "blackhole",
      .summary = "accept connections and forward nothing, never close",
      .make = made_of<blackhole_toxic>(),
      .describe = [](const toxic_stats& s) {
        return toxic_effect{s.bytes_dropped_total > 0, fmt::format("{} swallowed on {}", bytes_text(s.bytes_dropped_total), links_text(s))};
      },
  };
  return d;
}

void blackhole_toxic::on_data(chunk c, toxic_state*, stage_io& io) const { io.drop(c); }
void blackhole_toxic::on_eof(chunk c, toxic_state*, stage_io& io) const { io.drop(c); }

}  // namespace faultline::proxy
