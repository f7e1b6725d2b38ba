#include "faults/actions/command_action.hpp"
#include "faults/fault.hpp"
#include "faults/netem/netem_engine.hpp"
#include "faults/netem/network_fault.hpp"
#include "faults/process/process_faults.hpp"
#include "faults/protocol/protocol_faults.hpp"
#include "faults/proxy/toxic_registry.hpp"
#include "faults/proxy/toxic_types.hpp"
#include "faults/storm/connection_storm.hpp"
#include "faults/userspace/userspace_engine.hpp"

namespace faultline::faults {

// Each family adds its types here, in one place, so `faultline list` and the loader see them all.
// The toxic faults (byte-level and protocol) are derived from the toxic descriptors, registered
// once in register_builtin_toxics.
void register_builtin_faults(fault_registry& registry) {
  proxy::toxic_registry toxics;
  proxy::register_builtin_toxics(toxics);
  for (auto& type : proxy::toxic_fault_types(toxics)) registry.add(std::move(type));
  registry.add(network::network_fault_type({network::netem_engine_kind(), userspace::userspace_engine_kind()}));
  for (auto& type : process::process_fault_types()) registry.add(std::move(type));
  for (auto& type : protocol::protocol_fault_types()) registry.add(std::move(type));
  for (auto& type : storm::storm_fault_types()) registry.add(std::move(type));
  for (auto& type : actions::action_types()) registry.add(std::move(type));
}

}  // namespace faultline::faults
