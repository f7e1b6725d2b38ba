#pragma once
// The live part of a levels run (`load.levels`): the load, started with one stage per level,
// holds each level in turn; this waits out each one, names it in the progress, marks its span
// for the journal, and once its windows are complete logs how it did. abort_when is watched.

#include "engine/experiment.hpp"
#include "engine/runner/live_checks.hpp"
#include "engine/runner/progress.hpp"
#include "engine/runner/run_control.hpp"
#include "probes/timeline.hpp"
#include "reports/journal.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::engine {

class level_sequence {
public:
  // The load's first level starts at the timeline's start.
  level_sequence(const experiment& x, run_control& control, const probes::timeline& timeline, const live_checks& checks,
                 progress& status);

  boost::asio::awaitable<void> run();
  // One span per level that ran ("level:<name>"), in seconds from the run's start.
  const std::vector<reports::phase_span>& spans() const { return spans_; }
  // For the live metrics: "starting", "level" (while the levels run), "done"; and the level under
  // way (none before the first).
  std::string_view current_phase() const { return current_; }
  std::optional<std::size_t> current_level() const { return level_; }

private:
  boost::asio::awaitable<void> report(std::size_t level, reports::phase_span span);

  const experiment& x_;
  run_control& control_;
  const probes::timeline& timeline_;
  const live_checks& checks_;
  progress& status_;
  std::vector<reports::phase_span> spans_;
  std::string_view current_ = "starting";
  std::optional<std::size_t> level_;
};

// How one span went, read from the Timeline while the run goes on: the load's answers and the
// rules judged over the span (as the analysis judges a level or a capacity trial).
struct span_result {
  std::uint64_t count = 0;
  double rate = 0;  // answers per second
  double error_rate = 0;
  std::optional<double> p50, p95, p99;
  std::vector<reports::rule_result> rules;
  bool held() const;
  std::string first_broken() const;  // "\"load.p95 < 50ms\" measured 72ms", or empty
};
span_result judge_live_span(const probes::timeline& t, const std::vector<rule>& rules, double start, double end);

}  // namespace faultline::engine
