#pragma once
// Undoes faults that a killed run left behind, from the state file's records.

#include "engine/state_file.hpp"

#include <string>
#include <vector>

namespace faultline::faults {
class fault_registry;
}

namespace faultline::engine {

struct recovery_outcome {
  std::vector<std::string> undone;   // one line per undone fault
  std::vector<std::string> skipped;  // entries of runs that are still alive
  std::vector<std::string> failed;   // entries whose undo failed (kept in the state file)
};

// Undoes the entries of dead runs (and of live ones too when `include_alive`), removing each
// entry once undone. Never throws for a single failed entry; it is reported and kept.
recovery_outcome recover_leftovers(state_file& state, const faults::fault_registry& registry, bool include_alive);

}  // namespace faultline::engine
