#include "engine/cli/cli.hpp"
#include "engine/recovery.hpp"

#include <fmt/format.h>

#include <iostream>

namespace faultline::cli {

// `faultline recover`: undo what a killed run left behind (network qdiscs, firewall rules,
// stopped processes, storm workers), from the state file.
void add_recover_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("recover", "Undo faults left behind by a run that was killed");
  struct options {
    std::string state_path;
    bool force = false;
  };
  auto opts = std::make_shared<options>();
  cmd->add_option("--state-file", opts->state_path,
                  fmt::format("state file (default: {})", engine::state_file::default_path_rule()));
  cmd->add_flag("--force", opts->force, "also undo faults of runs that are still alive");
  cmd->callback([&ctx, opts] {
    engine::state_file state(opts->state_path.empty() ? engine::state_file::default_path()
                                                      : std::filesystem::path(opts->state_path));
    auto outcome = engine::recover_leftovers(state, ctx.faults, opts->force);
    for (const auto& line : outcome.undone) std::cout << "undone   " << line << "\n";
    for (const auto& line : outcome.skipped) std::cout << "skipped  " << line << "\n";
    for (const auto& line : outcome.failed) std::cerr << "FAILED   " << line << "\n";
    if (outcome.undone.empty() && outcome.skipped.empty() && outcome.failed.empty())
      std::cout << "nothing to recover (" << state.path().string() << " lists no injected faults)\n";
    ctx.exit = outcome.failed.empty() ? exit_ok : exit_internal;
  });
}

}  // namespace faultline::cli
