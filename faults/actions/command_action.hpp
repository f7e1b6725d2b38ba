#pragma once
// The `command` action: a runbook step (failover script, restart, feature flag) run at a point of
// the timeline and recorded in the journal with its exit code, duration and output.

#include "faults/fault.hpp"

#include <vector>

namespace faultline::actions {

std::vector<faults::fault_type> action_types();

}  // namespace faultline::actions
