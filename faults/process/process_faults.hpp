#pragma once
// Process faults, for the MTTR of supervised services:
//   process_stop  (fault)   SIGSTOP the process; SIGCONT on revert (and by `faultline recover`)
//   process_kill  (action)  send a signal (KILL by default) and wait for the process to exit
// The target is a PID, a pid file, or an exact process name that matches one process.

#include "faults/fault.hpp"

#include <vector>

namespace faultline::process {

std::vector<faults::fault_type> process_fault_types();

}  // namespace faultline::process
