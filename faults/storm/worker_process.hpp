#pragma once
// Storm worker processes as the operating system sees them: spawning one (fork + exec of the
// faultline binary in its hidden `storm-worker` mode, dying with its parent), its identity for
// crash recovery (pid plus start time, so a reused pid is never signalled), and memory figures.

#include "core/open_files.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faultline::storm {

// A process identity that survives pid reuse.
struct process_id {
  std::int64_t pid = 0;
  std::uint64_t start_time = 0;  // clock ticks since boot (/proc/PID/stat field 22)
};

nlohmann::json to_json(const process_id& p);
process_id process_id_from_json(const nlohmann::json& j);

// The start time of a running process; nothing when it is gone (or a zombie).
std::optional<std::uint64_t> process_start_time(std::int64_t pid);
// True when `p` still runs (same pid and start time, not a zombie).
bool process_alive(const process_id& p);

// A spawned worker: its pid and the parent's ends of its stdin and stdout pipes (close-on-exec).
struct spawned_worker {
  process_id id;
  int to_worker = -1;    // the worker's stdin
  int from_worker = -1;  // the worker's stdout
};

// The program run for workers: FAULTLINE_STORM_WORKER when set, else this executable.
std::string default_worker_program();
// Forks and execs `program storm-worker`. The child dies with the parent (PR_SET_PDEATHSIG),
// keeps only stdin, stdout and stderr open and starts with no signals blocked. Throws
// std::system_error when the pipes or the fork fail; a failed exec shows as exit code 127.
spawned_worker spawn_worker(const std::string& program);

// Exit status of a child: nothing while it runs. Reaps it.
std::optional<int> try_reap(std::int64_t pid);
// SIGKILL and reap (blocking; a killed child goes at once).
void kill_and_reap(std::int64_t pid);

// Sends SIGKILL to `p` when it still runs as the same process, then waits up to `wait_ms` for
// it to go. Returns false when it is still there afterwards. For processes that are not our
// children (crash recovery): they are reaped by init.
bool kill_process(const process_id& p, int wait_ms = 2000);

// This process's resident memory now and its high-water mark, in bytes (VmRSS, VmHWM).
std::int64_t resident_bytes();
std::int64_t peak_resident_bytes();

// The open-files limits are core's (the WebSocket load needs them too).
using faultline::open_files_hard_limit;
using faultline::raise_open_files_limit;

}  // namespace faultline::storm
