#pragma once
// Live progress: a status line each second (phase, elapsed/planned, active faults, rps, p95,
// error rate, breaker state) that rewrites itself on a terminal, or plain log lines (every five
// seconds and at each phase change) when output is not a terminal.

#include "core/clock.hpp"
#include "engine/runner/event.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace faultline::engine {

class progress {
public:
  // Elapsed times are read from `time`; offset 0 is the timeline's start.
  progress(std::ostream& out, bool tty, const probes::timeline& t, faultline::clock& time, std::string breaker_series);

  void set_phase(std::string name, std::chrono::nanoseconds planned);
  // Names of the faults active now, asked for at each status line.
  void set_active_faults(std::function<std::vector<std::string>()> active) { active_ = std::move(active); }
  // A log line; on a terminal the status line is redrawn below it.
  void log(const std::string& line);
  boost::asio::awaitable<void> run(event& finished);
  void finish();

  std::string status_line() const;

private:
  std::ostream& out_;
  bool tty_;
  const probes::timeline& timeline_;
  faultline::clock& time_;
  std::string breaker_series_;
  std::string phase_ = "starting";
  clock::time_point phase_start_;
  std::chrono::nanoseconds planned_{};
  std::function<std::vector<std::string>()> active_;
  bool drawn_ = false;
  int ticks_ = 0;
};

}  // namespace faultline::engine
