#pragma once
// latency: every chunk leaves `latency` +/- `jitter` (uniform) after it arrived here. Stacked
// latency toxics add up because each measures from when the previous one released the chunk.

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class latency_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit latency_toxic(const params& p);
  latency_toxic(duration latency, duration jitter);
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;

private:
  duration latency_;
  duration jitter_;
};

}  // namespace faultline::proxy
