#pragma once
// The journal of one run, built once the run is over: who ran what and where, the phases and the
// steps' records, the Timeline's windows per series, and the analysis and verdict computed from
// them. The journal's data model lives in reports/.

#include "engine/analysis/analysis.hpp"
#include "engine/experiment.hpp"
#include "probes/timeline.hpp"
#include "reports/journal.hpp"

#include <string>

namespace faultline::engine {

struct run_identity {
  std::string run_id;      // "20261125T163148Z-4242"
  std::string started_at;  // ISO 8601 UTC
};

// A run id from the wall clock and the process id.
std::string make_run_id();

// `facts` holds the phases, the steps' records and how the run stopped; the series and the phase
// stats are read from `timeline` (none when the run stopped before sampling began).
reports::journal build_journal(const experiment& x, const run_identity& id, run_facts facts,
                               const probes::timeline* timeline);

}  // namespace faultline::engine
