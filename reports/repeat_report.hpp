#pragma once
// The reports of a repeated run (`faultline run --repeat N`): its combined summary as a
// self-contained HTML page whose inline SVG shows the spread (each run a point, the median and
// the 95 % interval as a band, per figure and per expectation margin), as Markdown and as JSON.

#include "reports/repeat_summary.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace faultline::reports {

// The spread of every figure, then of every margin (with the target at 0), as one <svg>. Each row
// is a <g class="spread-row" data-figure=NAME ("margin EXPECTATION[ · QUANTITY]" for a margin) data-x-domain="v0 v1" data-x-range="px0 px1"
// data-median= data-low= data-high=> holding a <rect class="band">, a <line class="median"> and a
// <circle class="run" data-run=K data-value=V> per run, so a test can read the values back.
// Empty when there is nothing to draw.
std::string render_spread_figure(const repeat_summary& summary);

// `run_pages`: each run's HTML report, relative to the page, in run order (may be empty).
std::string render_repeat_html(const repeat_summary& summary, const std::vector<std::string>& run_pages = {});
std::string render_repeat_markdown(const repeat_summary& summary);
nlohmann::json repeat_summary_json(const repeat_summary& summary);

}  // namespace faultline::reports
