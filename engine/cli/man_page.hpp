#pragma once
// The faultline(1) manual page, written in roff from the CLI itself (its commands, options and
// help texts) and the fault and probe registries, so the page never drifts from the program.
// The build runs `faultline --generate man` to make it.

#include "engine/cli/cli.hpp"

#include <string>
#include <string_view>

namespace faultline::cli {

std::string render_man_page(const CLI::App& app, const context& ctx, std::string_view version);

}  // namespace faultline::cli
