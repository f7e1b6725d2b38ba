#pragma once
// Bash completion for faultline, written from the CLI itself (commands and their options), so it
// never drifts from the program. The build runs `faultline --generate bash-completion` to make it.

#include <CLI/CLI.hpp>

#include <string>

namespace faultline::cli {

std::string render_bash_completion(const CLI::App& app);

}  // namespace faultline::cli
