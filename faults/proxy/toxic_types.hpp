#pragma once
// The proxy's toxics as fault types for experiments: names, parameters and factories.

#include "faults/fault.hpp"

#include <vector>

namespace faultline::proxy {

std::vector<faults::fault_type> toxic_fault_types();

}  // namespace faultline::proxy
