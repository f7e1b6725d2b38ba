#include "engine/recovery.hpp"

#include "faults/fault.hpp"

#include <fmt/format.h>

namespace faultline::engine {

recovery_outcome recover_leftovers(state_file& state, const faults::fault_registry& registry, bool include_alive) {
  recovery_outcome out;
  for (const auto& entry : state.entries()) {
    const auto what = fmt::format("{} '{}' of experiment '{}' (run {}, pid {})", entry.type, entry.step,
                                  entry.experiment, entry.run_id, entry.pid);
    if (!include_alive && owner_alive(entry)) {
      out.skipped.push_back(what + ": that run is still going; stop it first, or pass --force");
      continue;
    }
    const auto* type = registry.find(entry.type);
    if (!type || !type->undo) {
      out.failed.push_back(what + ": this faultline does not know how to undo that fault type");
      continue;
    }
    try {
      type->undo(entry.record);
      state.remove(entry.run_id, entry.step);
      out.undone.push_back(what);
    } catch (const std::exception& e) {
      out.failed.push_back(fmt::format("{}: {}", what, e.what()));
    }
  }
  return out;
}

}  // namespace faultline::engine
