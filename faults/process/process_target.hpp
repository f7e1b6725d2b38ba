#pragma once
// Finds the process a process fault acts on, from its target: a PID ("4242"), a pid file
// ("/run/shop.pid"), or an exact process name ("redis-server", which must match one process).
// The lookup itself is core's (core/proc.hpp), shared with the process probe.

#include "core/proc.hpp"

#include <string>

namespace faultline::process {

using faultline::process_ref;
using faultline::process_state;
using faultline::still_running;

// Throws faults::fault_error naming the target and the fix when it finds none (or several).
process_ref resolve_process(const std::string& target);

}  // namespace faultline::process
