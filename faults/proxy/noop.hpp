#pragma once
// noop: passes everything on untouched. Toxiproxy has it; clients use it to test their setup.

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class noop_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit noop_toxic(const params& p = {}) : toxic(type_descriptor(), p) {}
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
};

}  // namespace faultline::proxy
