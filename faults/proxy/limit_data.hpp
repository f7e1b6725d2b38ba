#pragma once
// limit_data: passes the first `bytes` bytes of the direction, then closes the connection.
// The count survives updates of the toxic, as in Toxiproxy.

#include "faults/proxy/toxic.hpp"

#include <cstdint>

namespace faultline::proxy {

class limit_data_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit limit_data_toxic(const params& p);
  explicit limit_data_toxic(std::uint64_t bytes);
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  std::unique_ptr<toxic_state> new_state() const override;

private:
  std::uint64_t bytes_;
};

}  // namespace faultline::proxy
