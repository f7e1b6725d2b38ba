#pragma once
// The run state file: before a fault is injected, the runner records how to undo it here; after
// the revert, the record is removed. `faultline recover` (and the next `run`) undo whatever a
// killed run left behind. Several runs may share the file; a lock serialises changes.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace faultline::engine {

struct undo_entry {
  std::string run_id;
  std::int64_t pid = 0;             // the run that injected the fault
  std::uint64_t pid_start_time = 0; // its start time (clock ticks since boot), to detect pid reuse
  std::string experiment;
  std::string step;
  std::string type;                 // the fault type, whose undo function reads `record`
  nlohmann::json record;
  std::string written_at;           // ISO 8601, UTC
};

class state_file {
public:
  explicit state_file(std::filesystem::path path);

  // FAULTLINE_STATE_FILE, else /var/lib/faultline/state.json for root, else
  // $XDG_STATE_HOME/faultline/state.json (~/.local/state/faultline/state.json).
  static std::filesystem::path default_path();
  // That rule in words, for help texts (which must not depend on who builds the manual page).
  static const char* default_path_rule();

  const std::filesystem::path& path() const { return path_; }
  void add(const undo_entry& entry);
  void remove(const std::string& run_id, const std::string& step);
  std::vector<undo_entry> entries() const;

private:
  std::filesystem::path path_;
};

// The current process's start time, as recorded in undo entries.
std::uint64_t process_start_time(std::int64_t pid);
// True when the process that wrote the entry is still running (same pid and start time).
bool owner_alive(const undo_entry& entry);

}  // namespace faultline::engine
