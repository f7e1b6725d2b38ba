#pragma once
// The live part of a capacity run: the search for the highest arrival rate at which the rules
// hold (engine/capacity.hpp), first on the healthy system, then again while every fault of the
// timeline is held active, so a report can say "1,800/s healthy, 450/s while PostgreSQL is
// 500 ms slow". Each trial starts on a window boundary, runs the load at one rate, and is judged
// over its windows after the warmup once they are complete.

#include "engine/capacity.hpp"
#include "engine/experiment.hpp"
#include "engine/runner/event.hpp"
#include "engine/runner/live_checks.hpp"
#include "engine/runner/progress.hpp"
#include "engine/runner/run_control.hpp"
#include "engine/runner/sampler.hpp"
#include "engine/runner/step_runner.hpp"
#include "probes/timeline.hpp"
#include "reports/journal.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::engine {

// The steps a capacity run holds during its search under fault: the timeline's faults (actions
// left out), each injected at once and held until the search ends.
experiment held_faults_of(const experiment& x);

class capacity_run {
public:
  // `faults` run the steps of held_faults_of(x); none: only the healthy search.
  capacity_run(const experiment& x, run_control& control, const probes::timeline& timeline, const live_checks& checks,
               progress& status, trial_load& load, std::vector<std::unique_ptr<step_runner>>& faults);

  boost::asio::awaitable<void> run();
  // "capacity" and "capacity_under_fault", in seconds from the run's start.
  const std::vector<reports::phase_span>& spans() const { return spans_; }
  const std::vector<reports::capacity_search_record>& searches() const { return searches_; }

  // For the live metrics: "starting", "capacity" (the healthy search), "capacity_under_fault"
  // (injecting, then searching), "done"; and each search begun so far.
  struct search_progress {
    std::string search;  // healthy, under_fault
    int trials = 0;      // started so far
    double rate = 0;     // the arrival rate of the latest trial, per second
  };
  std::string_view current_phase() const { return current_; }
  const std::vector<search_progress>& progress_of_searches() const { return progress_; }

private:
  boost::asio::awaitable<void> search(const std::string& condition, const std::string& faults);
  boost::asio::awaitable<capacity_trial> trial(double rate, int number, int at_most);
  boost::asio::awaitable<bool> inject_all();
  std::string describe_faults() const;
  std::chrono::nanoseconds offset() const;

  const experiment& x_;
  run_control& control_;
  const probes::timeline& timeline_;
  const live_checks& checks_;
  progress& status_;
  trial_load& load_;
  std::vector<std::unique_ptr<step_runner>>& faults_;
  const std::vector<rule>& rules_;
  event search_over_;
  std::vector<reports::phase_span> spans_;
  std::vector<reports::capacity_search_record> searches_;
  std::string_view current_ = "starting";
  std::vector<search_progress> progress_;
};

}  // namespace faultline::engine
