#include "engine/cli/cli.hpp"
#include "engine/plan.hpp"

#include <iostream>

namespace faultline::cli {

// `faultline run FILE|DIR... [--dry-run]`: runs experiments; --dry-run prints each plan.
void add_run_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("run", "Run experiments and suites (or print their plan with --dry-run)");
  struct options {
    std::vector<std::string> inputs;
    std::vector<std::string> vars;
    bool dry_run = false;
  };
  auto opts = std::make_shared<options>();
  cmd->add_option("inputs", opts->inputs, "experiment files, suites or directories")->required();
  cmd->add_option("--var", opts->vars, "set a ${name} variable: name=value");
  cmd->add_flag("--dry-run", opts->dry_run, "print the plan on a time axis; start and change nothing");
  cmd->callback([&ctx, opts] {
    auto vars = parse_vars(opts->vars);
    std::vector<std::filesystem::path> inputs(opts->inputs.begin(), opts->inputs.end());
    auto files = engine::expand_inputs(inputs);
    // Everything is validated before anything runs.
    std::vector<engine::experiment> experiments;
    std::vector<engine::diagnostic> problems;
    for (const auto& file : files) {
      try {
        experiments.push_back(engine::load_experiment(file, ctx.catalogue(), vars));
      } catch (const engine::config_error& e) {
        problems.insert(problems.end(), e.problems().begin(), e.problems().end());
      }
    }
    if (!problems.empty()) throw engine::config_error(std::move(problems));
    if (!opts->dry_run) {
      std::cerr << "faultline run: only --dry-run is available in this build\n";
      ctx.exit = exit_invalid;
      return;
    }
    for (const auto& x : experiments) std::cout << engine::render_plan(x, ctx.faults) << "\n";
    ctx.exit = exit_ok;
  });
}

}  // namespace faultline::cli
