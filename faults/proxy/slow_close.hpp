#pragma once
// slow_close: the end of the stream is passed on `delay` after it arrived; data is untouched.

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class slow_close_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit slow_close_toxic(const params& p);
  explicit slow_close_toxic(duration delay);
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  void on_eof(chunk c, toxic_state* state, stage_io& io) const override;

private:
  duration delay_;
};

}  // namespace faultline::proxy
