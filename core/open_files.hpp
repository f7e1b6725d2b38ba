#pragma once
// The per-process open-files limit, which caps how many connections one process can hold (the
// connection storm's workers, the WebSocket load's sessions).

#include <cstdint>

namespace faultline {

// Raises the soft open-files limit to the hard limit; returns the new soft limit.
std::int64_t raise_open_files_limit();
std::int64_t open_files_hard_limit();

}  // namespace faultline
