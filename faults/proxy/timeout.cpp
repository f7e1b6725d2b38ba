#include "faults/proxy/timeout.hpp"

#include "faults/proxy/toxic_units.hpp"

namespace faultline::proxy {

nlohmann::ordered_json timeout_toxic::attributes() const { return {{"timeout", as_millis(timeout_)}}; }

void timeout_toxic::on_data(chunk c, toxic_state*, stage_io& io) const { io.drop(c); }

void timeout_toxic::on_start(toxic_state*, stage_io& io) const {
  if (timeout_ > duration::zero()) io.close_at(io.now() + timeout_);
}

void timeout_toxic::on_stop(toxic_state*, stage_io& io) const { io.close_at(io.now()); }

}  // namespace faultline::proxy
