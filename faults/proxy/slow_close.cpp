#include "faults/proxy/slow_close.hpp"

#include "faults/proxy/toxic_units.hpp"

namespace faultline::proxy {

nlohmann::ordered_json slow_close_toxic::attributes() const { return {{"delay", as_millis(delay_)}}; }

void slow_close_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp;
  io.pass(std::move(c), at);
}

void slow_close_toxic::on_eof(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp + delay_;
  io.pass(std::move(c), at);
}

}  // namespace faultline::proxy
