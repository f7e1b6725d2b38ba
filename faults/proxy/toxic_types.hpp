#pragma once
// The proxy's toxics as fault types for experiments, derived from their descriptors: each type
// takes the toxic's parameters plus stream and toxicity (byte-level) or probability
// (message-level); its faults add the toxic to the target proxy through
// fault_context::proxies on inject(), remove it on revert(), and report what it did. Also
// `down`, which takes the proxy itself down.

#include "faults/fault.hpp"

#include <vector>

namespace faultline::proxy {

class toxic_registry;

// One fault type per registered toxic (except the control API's own, like noop), and down.
std::vector<faults::fault_type> toxic_fault_types(const toxic_registry& toxics);

}  // namespace faultline::proxy
