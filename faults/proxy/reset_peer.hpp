#pragma once
// reset_peer: once data (or the end of the stream) arrives, drops it and resets both sides of
// the connection (RST, as SO_LINGER 0 makes close() do) after `timeout`; 0 resets at once.

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class reset_peer_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit reset_peer_toxic(const params& p);
  explicit reset_peer_toxic(duration timeout);
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  void on_eof(chunk c, toxic_state* state, stage_io& io) const override;

private:
  duration timeout_;
};

}  // namespace faultline::proxy
