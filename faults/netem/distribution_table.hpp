#pragma once
// Delay distribution tables (normal, pareto, paretonormal) as netem takes them: iproute2's tables of
// inverse-CDF samples, 4096 signed 16-bit values scaled so that 8192 is one jitter.

#include "faults/netem/network_spec.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace faultline::faults::network {

inline constexpr int distribution_scale = 8192;  // NETEM_DIST_SCALE: this value means one `jitter`

// Where iproute2 installs its tables (Debian's multiarch directory first).
std::vector<std::string> distribution_search_paths();

// The table for a distribution; empty for uniform (netem's built-in). Throws capability_error
// naming the file and the package when the table is missing, fault_error when it is malformed.
std::vector<std::int16_t> load_distribution_table(delay_distribution d);

// Parses the text of a .dist file (numbers separated by white space, '#' comment lines).
std::vector<std::int16_t> parse_distribution_table(const std::string& text, const std::string& origin);

}  // namespace faultline::faults::network
