#pragma once
// One experiment run, start to end: preflight, proxies, load and probes sampling into the
// Timeline, steady state before, baseline, the fault timeline, recovery, steady state after, then
// the analysis and the journal. Rollback always runs: on success, failure, abort and signals.

#include "engine/experiment.hpp"
#include "engine/runner/preflight.hpp"  // preflight_error: run() throws it
#include "reports/journal.hpp"

#include <filesystem>
#include <iosfwd>
#include <memory>

namespace faultline::faults {
class fault_registry;
}
namespace faultline::probes {
class probe_registry;
}

namespace faultline::engine {

class metrics_sink;

struct run_options {
  std::filesystem::path state_path;  // the state file for crash recovery
  bool interactive = false;          // game-day mode: keys end manual faults or abort
  bool tty = false;                  // a status line that rewrites itself; else plain log lines
  std::ostream* out = nullptr;       // progress; std::cout when null
  metrics_sink* metrics = nullptr;   // the run's Prometheus metrics go here (--metrics); none when null
};

class session {
public:
  session(const experiment& x, const faults::fault_registry& faults, const probes::probe_registry& probes,
          run_options options);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Runs the experiment and returns its journal; the verdict says how it ended. Blocks. SIGINT and
  // SIGTERM abort the run (everything is reverted, exit code 3).
  reports::journal run();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace faultline::engine
