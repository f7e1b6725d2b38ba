#pragma once
// bandwidth: passes data at `rate` bytes per second; big chunks leave in pieces of 100 ms worth.
// Rate 0 passes nothing (the data waits until the toxic is removed or updated).

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class bandwidth_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit bandwidth_toxic(const params& p);
  explicit bandwidth_toxic(double bytes_per_second);
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  std::unique_ptr<toxic_state> new_state() const override;

private:
  double rate_;
};

}  // namespace faultline::proxy
