#include "faults/proxy/noop.hpp"

namespace faultline::proxy {

void noop_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp;
  io.pass(std::move(c), at);
}

}  // namespace faultline::proxy
