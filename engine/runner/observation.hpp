#pragma once
// Reads the Timeline in journal terms: per-window points of each series and per-phase stats
// computed from the merged histograms. The analysis and the live checks both read these.

#include "probes/timeline.hpp"
#include "reports/journal.hpp"
#include "reports/windows.hpp"

#include <map>
#include <string>
#include <vector>

namespace faultline::engine {

// Per-window points of each series: the journal reader derives them the same way (reports/windows.hpp).
using reports::series_records;
using reports::to_point;

// Stats of every series in every phase span.
std::vector<reports::phase_stat> phase_stats(const probes::timeline& t, const std::vector<reports::phase_span>& phases);

}  // namespace faultline::engine
