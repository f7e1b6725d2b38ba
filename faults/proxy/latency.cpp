#include "faults/proxy/latency.hpp"

#include "faults/proxy/toxic_units.hpp"

namespace faultline::proxy {

nlohmann::ordered_json latency_toxic::attributes() const {
  return {{"latency", as_millis(latency_)}, {"jitter", as_millis(jitter_)}};
}

void latency_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  auto delay = latency_;
  if (jitter_.count() > 0) {
    std::uniform_int_distribution<duration::rep> spread(-jitter_.count(), jitter_.count());
    delay += duration(spread(io.random()));
  }
  auto at = c.stamp + std::max(delay, duration::zero());
  io.pass(std::move(c), at);
}

}  // namespace faultline::proxy
