#pragma once
// What an experiment will do, in words: a one-line summary for `validate` and the plan on a time
// axis for `run --dry-run`. Neither touches anything.

#include "engine/experiment.hpp"

#include <string>

namespace faultline::engine {

std::string describe_summary(const experiment& x);
std::string render_plan(const experiment& x);

}  // namespace faultline::engine
