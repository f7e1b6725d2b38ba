#pragma once
// timeout: drops all data and closes the connection `timeout` after the toxic started on it
// (0: never closes). Removing it closes the connection too: the bytes it dropped leave a hole
// in the stream that no client could recover from (Toxiproxy does the same).

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class timeout_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit timeout_toxic(const params& p);
  explicit timeout_toxic(duration timeout);
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  void on_start(toxic_state* state, stage_io& io) const override;
  void on_stop(toxic_state* state, stage_io& io) const override;

private:
  duration timeout_;
};

}  // namespace faultline::proxy
