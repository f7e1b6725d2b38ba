#include "faults/proxy/reset_peer.hpp"

#include "faults/proxy/toxic_units.hpp"

namespace faultline::proxy {

nlohmann::ordered_json reset_peer_toxic::attributes() const { return {{"timeout", as_millis(timeout_)}}; }

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
