#pragma once
// The proxy's toxics as fault types for experiments: names, typed parameters, a validate for
// combinations that cannot work, and factories whose faults add the toxic to the target proxy
// through fault_context::proxies on inject(), remove it on revert(), and report what it did.

#include "faults/fault.hpp"

#include <vector>

namespace faultline::proxy {

std::vector<faults::fault_type> toxic_fault_types();

}  // namespace faultline::proxy
