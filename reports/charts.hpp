#pragma once
// The HTML report's charts as inline SVG, computed from the journal alone. One figure of stacked
// panels sharing the time axis: fault and action bars, latency p50/p95/p99, throughput, error
// rate, each resource probe's memory, CPU and TCP connections, the breaker state and each probe
// as coloured bands, MTTD and MTTR on the time axis; the phases shaded in every panel. Colours
// come from the page's CSS classes.
//
// Every panel is a <g class="panel" data-panel=NAME> carrying its scales as data attributes
// (data-x-domain="t0 t1" data-x-range="px0 px1" data-y-domain="v0 v1" data-y-range="py0 py1"), and
// every line a <path data-series=NAME>, so a reader (or a test) can map coordinates back to values.
// A window's value is drawn at the window's middle; a window without samples breaks the line.

#include "reports/journal.hpp"

#include <string>
#include <vector>

namespace faultline::reports {

// Maps a data interval onto a pixel interval (either may run backwards: SVG's y grows downwards).
struct linear_scale {
  double domain_min = 0, domain_max = 1;
  double range_min = 0, range_max = 1;
  double operator()(double v) const {
    if (domain_max == domain_min) return range_min;
    return range_min + (v - domain_min) * (range_max - range_min) / (domain_max - domain_min);
  }
};

// Axis ticks from 0 to at least `max` in steps of 1, 2, 2.5 or 5 times a power of ten, at most
// `at_most` + 1 of them. The last tick is the axis's top. max <= 0 gives {0, 1}.
std::vector<double> nice_ticks(double max, int at_most);

// Time-axis ticks in seconds from 0 to at most `end`, at steps people read (1s, 2s, 5s, 10s, 15s,
// 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h, ...), at most `at_most` + 1 of them.
std::vector<double> time_ticks(double end, int at_most);

// The whole figure as an <svg> element; empty when the journal has no series to draw.
std::string render_timeline_figure(const journal& j);

}  // namespace faultline::reports
