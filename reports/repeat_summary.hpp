#pragma once
// The combined summary of one experiment run N times (`faultline run --repeat N`): per figure the
// median over the runs and its 95 % bootstrap interval, and the verdict's stability ("passed 4 of
// 5: flaky", naming the expectations that flipped).

#include "reports/journal.hpp"
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
  double median = 0;
  std::optional<stats::interval> interval;  // 95 %; none with fewer than two values
};

struct repeat_summary {
  std::string experiment;
  std::size_t runs = 0;
  std::size_t passed = 0;
  std::vector<std::string> flipped;  // expectations met in some runs and missed in others
  std::vector<repeat_figure> figures;
  int worst_exit = 0;                // the highest exit code of any run

  // passed (every run passed), flaky (some did), failed (none did), or the worst run's verdict
  // when a run aborted or erred.
  std::string outcome() const;
  // 0 only when every run passed; 5 flaky; else the worst run's exit code.
  int exit_code() const;
};

repeat_summary summarize_repeats(std::span<const journal> runs, const stats::bootstrap_options& options = {});

// "db-slowness: passed 4 of 5: flaky (expectation mttr flipped)" and one line per figure:
// "  p99 load/fault  312ms [298ms, 341ms]  (5 runs)".
std::string render_repeat_text(const repeat_summary& summary);

}  // namespace faultline::reports
