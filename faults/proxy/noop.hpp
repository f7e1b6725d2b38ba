#pragma once
// noop: passes everything on untouched. Toxiproxy has it; clients use it to test their setup.

#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class noop_toxic final : public toxic {
public:
  std::string_view type() const override { return "noop"; }
  nlohmann::ordered_json attributes() const override { return nlohmann::ordered_json::object(); }
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
};

}  // namespace faultline::proxy
