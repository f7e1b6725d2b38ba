#pragma once
// The live part of one run (steps and phases) on a manual clock, for unit tests: an experiment
// loaded from YAML with the fake fault types, a Timeline the test fills with a scripted health
// probe, and a loop that jumps the clock from one alarm to the next. Nothing sleeps.

#include "engine/experiment.hpp"
#include "engine/runner/live_checks.hpp"
#include "engine/runner/phases.hpp"
#include "engine/runner/progress.hpp"
#include "engine/runner/run_control.hpp"
#include "engine/runner/step_runner.hpp"
#include "engine/state_file.hpp"
#include "probes/timeline.hpp"
#include "tests/engine/runner/fake_fault.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace faultline::test {

class manual_run {
public:
  // `yaml` may name the probe `health` (declared by the caller) and the types fake/fake_action.
  explicit manual_run(const std::string& yaml, bool interactive = false);
  ~manual_run();
  manual_run(const manual_run&) = delete;
  manual_run& operator=(const manual_run&) = delete;

  // Declared first: alarms and timers of unfinished coroutines outlive everything else.
  std::shared_ptr<manual_clock> time = std::make_shared<manual_clock>();
  boost::asio::io_context io;
  fake_world world{*time};

private:
  faults::fault_registry registry_ = world.registry();
  std::filesystem::path dir_;

public:
  engine::experiment x;
  std::vector<std::string> log;  // progress lines, in order
  engine::run_control control;
  engine::state_file state;
  std::vector<std::unique_ptr<engine::step_runner>> steps;
  probes::timeline timeline;
  engine::live_checks checks;
  std::ostringstream status_out;
  engine::progress status;
  engine::phase_sequence phases;

  clock::time_point start() const { return timeline.start(); }
  std::chrono::nanoseconds now() const { return time->now() - start(); }  // offset from the start

  // The health probe's samples over [from, to): one each quarter window, ok or failed.
  void health(std::chrono::nanoseconds from, std::chrono::nanoseconds to, bool ok);

  // Starts the phases; like the session, `finished` is set once they end.
  void start_phases();
  // Starts only the steps, as the fault phase would at offset `fault_start`; `until: recovered`
  // ends when the test sets `recovered`.
  void start_steps(std::chrono::nanoseconds fault_start);
  engine::event recovered{io.get_executor()};
  bool phases_done() const { return phases_done_; }

  // Runs the io_context, the clock jumping from alarm to alarm, until the phases end or the clock
  // reaches `limit` (an offset); runs what is due at `limit`. True when the phases ended.
  bool run_until(std::chrono::nanoseconds limit);

  // The fakes' calls, as "inject a @5000ms" lines.
  std::vector<std::string> calls() const { return world.timeline(start()); }
  engine::step_runner& step(const std::string& name);
  bool logged(const std::string& part) const;  // some progress line contains `part`

private:
  void poll();
  bool phases_done_ = false;
};

}  // namespace faultline::test
