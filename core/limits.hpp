#pragma once
// The largest inputs faultline accepts, in one place: values (checked by core/units' parsers and,
// for parameters, by param_spec's range), experiment files (checked before yaml-cpp builds a
// tree) and control API requests. docs/experiment-format.md and docs/proxy.md list them.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace faultline::limits {

// Values, wherever they are written (YAML, the control API, the command line). Each is far above
// what an experiment needs and far below where arithmetic on it could overflow.
inline constexpr std::chrono::hours longest_duration{7 * 24};  // 7d
inline constexpr double highest_rate = 1e6;                     // 1M/s (requests, connections, ...)
inline constexpr std::int64_t largest_size = std::int64_t{1} << 40;  // 1TiB
inline constexpr double highest_bandwidth = 1e11;               // 100GB/s (800Gbit/s)
inline constexpr std::int64_t largest_count = 1'000'000'000;    // an integer parameter without its own bound

// Experiment and suite files.
inline constexpr std::size_t experiment_file_bytes = std::size_t{1} << 20;  // 1MiB
inline constexpr std::size_t list_entries = 1000;      // entries of one list (tags, steps, rules, ...)
inline constexpr std::size_t mapping_entries = 1000;   // keys of one mapping (probes, proxies, headers, ...)
inline constexpr std::size_t yaml_nodes = 20000;       // values in the whole file
inline constexpr std::size_t nesting_depth = 32;       // lists and mappings inside each other

// The control API (`faultline proxy`): a larger request body is answered with 413.
inline constexpr std::size_t api_body_bytes = std::size_t{1} << 20;  // 1MiB

}  // namespace faultline::limits
