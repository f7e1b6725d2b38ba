#pragma once
// slow_close: the end of the stream is passed on `delay` after it arrived; data is untouched.

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class slow_close_toxic final : public toxic {
public:
  explicit slow_close_toxic(duration delay) : delay_(delay) {}
  std::string_view type() const override { return "slow_close"; }
  nlohmann::ordered_json attributes() const override;
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  void on_eof(chunk c, toxic_state* state, stage_io& io) const override;

private:
  duration delay_;
};

}  // namespace faultline::proxy
