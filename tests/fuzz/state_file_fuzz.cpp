// libFuzzer target for the run state file reader (engine/state_file.cpp): state_file::entries(),
// as `faultline recover` and `run` read it, on arbitrary bytes. Checks, besides "no crash, leak or
// sanitizer report": bad input is a state_file_error (exit 2), never another exception; a file
// that reads is rewritten (as add/remove do) to one that reads as the same entries.
// Build and run: scripts/fuzz.sh --target state_file (docs/testing.md).

#include "engine/state_file.hpp"
#include "tests/fuzz/scratch_file.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <typeinfo>
#include <vector>

namespace fe = faultline::engine;

namespace {

bool same(const fe::undo_entry& a, const fe::undo_entry& b) {
  return a.run_id == b.run_id && a.pid == b.pid && a.pid_start_time == b.pid_start_time && a.experiment == b.experiment &&
         a.step == b.step && a.type == b.type && a.record == b.record && a.written_at == b.written_at;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& file = faultline::fuzz::scratch_file("state.json");
  faultline::fuzz::write_scratch(file, data, size);
  fe::state_file state(file);
  try {
    auto entries = state.entries();
    state.remove("no such run", "no such step");  // rewrites the file without that entry
    std::erase_if(entries, [](const fe::undo_entry& e) { return e.run_id == "no such run" && e.step == "no such step"; });
    const auto again = state.entries();
    bool equal = again.size() == entries.size();
    for (std::size_t i = 0; equal && i < entries.size(); ++i) equal = same(entries[i], again[i]);
    if (!equal) {
      std::fprintf(stderr, "state_file_fuzz: the entries read back after a rewrite differ (%zu before, %zu after)\n", entries.size(),
                   again.size());
      std::abort();
    }
  } catch (const fe::state_file_error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "state_file_fuzz: state_file::entries threw %s instead of a state_file_error: %s\n", typeid(e).name(),
                 e.what());
    std::abort();
  }
  return 0;
}
