#pragma once
// `fault: connection_storm`: a connection storm against an address or a proxy of the experiment,
// run by a storm_fleet. Inject starts the workers, revert closes every connection and stops every
// worker; the evidence says how many connections were held at peak and how each attempt ended.

#include "faults/fault.hpp"
#include "faults/storm/storm_config.hpp"
#include "faults/storm/storm_stats.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline::storm {

std::vector<faults::fault_type> storm_fault_types();

// The type's undo: kills the worker processes an undo record lists (by pid and start time, so a
// reused pid is left alone). Throws faults::fault_error when one survives SIGKILL.
void undo_connection_storm(const nlohmann::json& record);

// What a storm's report proves, for the journal. `problems` are worker failures.
faults::evidence storm_evidence(const storm_config& config, const storm_report& report,
                                const std::vector<std::string>& problems);

}  // namespace faultline::storm
