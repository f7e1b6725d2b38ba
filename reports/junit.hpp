#pragma once
// JUnit XML for CI systems: one <testsuite> per experiment, one <testcase> per expectation (a
// missed one carries a <failure> with the measured value and the target), plus a "verdict" case
// that fails or errors with the run. Valid under both common JUnit schemas (Ant's and Jenkins').

#include "reports/journal.hpp"

#include <span>
#include <string>

namespace faultline::reports {

std::string render_junit(const journal& run);
std::string render_junit(std::span<const journal> runs);

}  // namespace faultline::reports
