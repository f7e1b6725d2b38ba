#pragma once
// The worker side of a storm fleet: the hidden `faultline storm-worker` mode. Reads its share of
// the storm as JSON lines on stdin, runs one storm_generator and reports on stdout.
//
// Protocol (one JSON object per line):
//   parent -> worker: {"config": {...}}  then  {"command": "start"}  and later  {"command": "stop"}
//   worker -> parent: {"type": "hello", "pid": N}                             at once
//                     {"type": "ready", "pid": N, "open_files": N}
//                     {"type": "progress", "counts": {...}, "rss_bytes": N}   every 100 ms, and
//                     {"type": "progress", "report": {...}, "rss_bytes": N}   with latencies every 1 s
//                     {"type": "final", "report": {...}, "rss_bytes": N}      then it exits 0
//                     {"type": "error", "message": "..."}                     then it exits 2
// End of input (the parent went away) stops the storm like "stop".

#include <chrono>

namespace faultline::storm {

inline constexpr std::chrono::milliseconds worker_progress_interval{100};

// Runs a worker on the given descriptors until its storm ends; returns the exit code.
int run_storm_worker(int in_fd, int out_fd);

}  // namespace faultline::storm
