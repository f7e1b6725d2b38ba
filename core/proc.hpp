#pragma once
// Reading /proc for the processes faultline watches or acts on: a process's stat line, and finding
// one process by its target: a PID ("4242"), a pid file ("/run/shop.pid", anything with a '/'), or
// an exact process name ("redis-server", which must match exactly one process).

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace faultline {

// The fields faultline reads from /proc/<pid>/stat (proc(5)).
struct proc_stat {
  std::string name;              // comm
  char state = 0;                // 'R', 'S', 'T' stopped, 'Z' zombie, ...
  std::uint64_t user_ticks = 0;  // CPU time of every thread, in clock ticks
  std::uint64_t system_ticks = 0;
  std::int64_t threads = 0;
  std::uint64_t start_time = 0;  // clock ticks since boot, to tell a reused PID apart
  std::int64_t rss_pages = 0;    // resident set size, in pages
};

// None when the process does not exist (any more).
std::optional<proc_stat> read_proc_stat(std::int64_t pid);
// Clock ticks per second (sysconf(_SC_CLK_TCK)) and the page size in bytes.
double clock_ticks_per_second();
std::int64_t page_size();

struct process_ref {
  std::int64_t pid = 0;
  std::uint64_t start_time = 0;
  std::string name;
};

// A target that names no process (or several); the message names the target and the fix.
class process_lookup_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The one process `target` names. Throws process_lookup_error.
process_ref find_process(const std::string& target);

// The process as it is now, if it still runs and is the same one (same start time).
std::optional<process_ref> still_running(const process_ref& p);

// The state letter from /proc/<pid>/stat; 0 when gone.
char process_state(std::int64_t pid);

}  // namespace faultline
