#include "faults/proxy/noop.hpp"

namespace faultline::proxy {

const toxic_descriptor& noop_toxic::type_descriptor() {
  static const toxic_descriptor d{
      "noop",
      "pass everything untouched (control API only; Toxiproxy clients test their setup with it)",
      "",
      "",
      {},
      nullptr,
      made_of<noop_toxic>(),
      [](const toxic_stats&) { return toxic_effect{false, "passes everything untouched"}; },
      true,
  };
  return d;
}

void noop_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp;
  io.pass(std::move(c), at);
}

}  // namespace faultline::proxy
