#pragma once
// blackhole: the connection stays open and nothing gets through: data and the end of the stream
// are swallowed. When it is removed from a connection it swallowed bytes from, the link closes
// that connection rather than go on with a hole in the stream.

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class blackhole_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit blackhole_toxic(const params& p = {}) : toxic(type_descriptor(), p) {}
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  void on_eof(chunk c, toxic_state* state, stage_io& io) const override;
};

}  // namespace faultline::proxy
