#include "engine/cli/cli.hpp"
#include "engine/plan.hpp"

#include <fmt/format.h>

#include <iostream>

namespace faultline::cli {

// `faultline validate FILE|DIR...`: checks experiments and suites without touching anything.
void add_validate_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("validate", "Check experiments and suites; print a summary of each valid one");
  struct options {
    std::vector<std::string> inputs;
    std::vector<std::string> vars;
  };
  auto opts = std::make_shared<options>();
  cmd->add_option("inputs", opts->inputs, "experiment files, suites or directories")->required();
  cmd->add_option("--var", opts->vars, "set a ${name} variable: name=value");
  cmd->callback([&ctx, opts] {
    auto vars = parse_vars(opts->vars);
    std::vector<std::filesystem::path> inputs(opts->inputs.begin(), opts->inputs.end());
    auto files = engine::expand_inputs(inputs);
    std::size_t invalid = 0;
    for (const auto& file : files) {
      try {
        auto x = engine::load_experiment(file, ctx.catalogue(), vars);
        std::cout << "ok  " << file.string() << "  " << engine::describe_summary(x) << "\n";
      } catch (const engine::config_error& e) {
        ++invalid;
        std::cerr << e.what() << "\n";
        std::cerr << fmt::format("invalid  {} ({} problem{})\n", file.string(), e.problems().size(),
                                 e.problems().size() == 1 ? "" : "s");
      }
    }
    ctx.exit = invalid == 0 ? exit_ok : exit_invalid;
  });
}

}  // namespace faultline::cli
