#pragma once
// The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched) that
// an executive reads from the top (verdict, score, tier, a few sentences) and an engineer reads to
// the bottom (charts, expectations, each fault with its evidence, per-phase statistics).

#include "reports/journal.hpp"

#include <string>
#include <string_view>

namespace faultline::reports {

std::string render_html(const journal& run);

// The page's stylesheet, shared with the suite index so both look alike.
std::string_view report_stylesheet();

}  // namespace faultline::reports
