#pragma once
// Reads the Timeline in journal terms: per-window points of each series and per-phase stats
// computed from the merged histograms. The analysis and the live checks both read these.

#include "probes/timeline.hpp"
#include "reports/journal.hpp"

#include <map>
#include <string>
#include <vector>

namespace faultline::engine {

reports::window_point to_point(const probes::window& w, double window_seconds);

// Every series, windows [0, `windows`) each (missing windows are empty points).
// `kinds` names each series' kind ("load", or the probe type).
std::vector<reports::series_record> series_records(const probes::timeline& t,
                                                   const std::map<std::string, std::string>& kinds,
                                                   std::int64_t windows);

// Every series' sample log, in intended order.
std::map<std::string, probes::sample_log, std::less<>> sample_logs(const probes::timeline& t);

// Stats of every series in every phase span.
std::vector<reports::phase_stat> phase_stats(const probes::timeline& t, const std::vector<reports::phase_span>& phases);

}  // namespace faultline::engine
