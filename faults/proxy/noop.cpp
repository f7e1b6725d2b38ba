#include "faults/proxy/noop.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

namespace faultline::proxy {

const toxic_descriptor& noop_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "noop",
      .summary = "pass everything untouched (control API only; Toxiproxy clients test their setup with it)",
      .make = made_of<noop_toxic>(),
      .describe = [](const toxic_stats&) { return toxic_effect{false, "passes everything untouched"}; },
      .api_only = true,
  };
  return d;
}

void noop_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp;
  io.pass(std::move(c), at);
}

}  // namespace faultline::proxy
