#pragma once
// The Markdown summary: short enough for a pull-request comment or a CI job summary (verdict,
// score, tier, expectations, key numbers, worst p99 and error rate per phase, faults).

#include "reports/journal.hpp"

#include <string>

namespace faultline::reports {

std::string render_markdown(const journal& run);

}  // namespace faultline::reports
