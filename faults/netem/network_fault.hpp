#pragma once
// The `network` fault: delay, loss, duplication, corruption, reordering and rate limits on a
// device's traffic, applied by the engine the step chooses (netem, userspace, or auto).

#include "faults/fault.hpp"
#include "faults/netem/network_engine.hpp"
#include "faults/netem/network_spec.hpp"

#include <memory>
#include <vector>

namespace faultline::faults::network {

class network_fault : public fault {
public:
  network_fault(std::shared_ptr<const network_spec> spec, std::unique_ptr<network_engine> engine);

  boost::asio::awaitable<void> inject() override;
  boost::asio::awaitable<void> revert() override;
  evidence collect_evidence() const override;
  nlohmann::json undo_record() const override;
  std::string engine() const override;

  const network_spec& spec() const { return *spec_; }

private:
  std::shared_ptr<const network_spec> spec_;
  std::unique_ptr<network_engine> engine_;
};

// Picks the engine for a spec: the one asked for, or for `auto` netem when it can run, else
// userspace. Throws capability_error (naming the kernel option and the fix) when none can run;
// checks only, changes nothing.
const engine_kind& select_engine(const network_spec& spec, const std::vector<engine_kind>& engines);

// The `network` fault type over the given engines (in preference order for `auto`).
fault_type network_fault_type(std::vector<engine_kind> engines);

}  // namespace faultline::faults::network
