#include "faults/proxy/blackhole.hpp"

namespace faultline::proxy {

void blackhole_toxic::on_data(chunk c, toxic_state*, stage_io& io) const { io.drop(c); }
void blackhole_toxic::on_eof(chunk c, toxic_state*, stage_io& io) const { io.drop(c); }

}  // namespace faultline::proxy
