#pragma once
// Finds the process a process fault acts on, from its target: a PID ("4242"), a pid file
// ("/run/shop.pid"), or an exact process name ("redis-server", which must match one process).

#include <cstdint>
#include <optional>
#include <string>

namespace faultline::process {

struct process_ref {
  std::int64_t pid = 0;
  std::uint64_t start_time = 0;  // clock ticks since boot, to tell a reused PID apart
  std::string name;              // comm
};

// Throws faults::fault_error naming the target and the fix when it finds none (or several).
process_ref resolve_process(const std::string& target);

// The process as it is now, if it still runs and is the same one (same start time).
std::optional<process_ref> still_running(const process_ref& p);

// The state letter from /proc/<pid>/stat ('R', 'S', 'T' stopped, 'Z' zombie); 0 when gone.
char process_state(std::int64_t pid);

}  // namespace faultline::process
