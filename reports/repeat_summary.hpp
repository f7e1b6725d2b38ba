#pragma once
// The combined summary of one experiment run N times (`faultline run --repeat N`): per figure the
// median over the runs and its 95 % bootstrap interval, and the verdict's stability ("passed 4 of
// 5: flaky", naming the expectations that flipped).

#include "reports/journal.hpp"
#include "reports/margins.hpp"
#include "reports/stats.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace faultline::reports {

// The exit code of a repeated run whose verdict is flaky: some runs passed and some missed an
// expectation (docs/analysis.md, "Verdict and exit code").
inline constexpr int flaky_exit_code = 5;

struct repeat_figure {
  std::string name;            // "score", "availability load/fault", "p99 load/fault", "mttr", "breaker time_to_open", ...
  std::vector<double> values;  // one per run that measured it
  std::vector<std::size_t> runs;  // the run (1-based) each value is from
  double median = 0;
  std::optional<stats::interval> interval;  // 95 %; none with fewer than two values
};

// One quantity of a threshold expectation over the runs: each run's margin, and their median with
// its interval across runs (basis "runs"); borderline when that interval spans the target.
struct repeat_margin {
  std::string expectation;     // "mttr", "sla", "during_fault[0]"
  std::size_t met = 0;         // runs in which the expectation was met
  std::vector<double> values;  // each run's margin, in the margin's unit
  std::vector<std::size_t> runs;  // the run (1-based) each value is from
  margin_record margin;
};

struct repeat_summary {
  std::string experiment;
  std::size_t runs = 0;
  std::size_t passed = 0;
  std::vector<std::string> results;  // each run's verdict, in run order
  std::vector<std::string> flipped;  // expectations met in some runs and missed in others
  std::vector<repeat_figure> figures;
  std::vector<repeat_margin> margins;
  int worst_exit = 0;                // the highest exit code of any run

  // passed (every run passed), flaky (some did), failed (none did), or the worst run's verdict
  // when a run aborted or erred.
  std::string outcome() const;
  // 0 only when every run passed; 5 flaky; else the worst run's exit code.
  int exit_code() const;
};

repeat_summary summarize_repeats(std::span<const journal> runs, const stats::bootstrap_options& options = {});

// A figure's value as shown: a score, a percentage (availability), a count (flaps), else seconds.
std::string format_figure_value(const std::string& figure, double value);

// "db-slowness: passed 4 of 5: flaky (expectation mttr flipped)" and one line per figure:
// "  p99 load/fault  312ms [298ms, 341ms]  (5 runs)".
std::string render_repeat_text(const repeat_summary& summary);

}  // namespace faultline::reports
