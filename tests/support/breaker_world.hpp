#pragma once
// A simulated service with a circuit breaker in front of a dependency, for analysis tests: an open
// load calls it, the breaker opens after `failures` failed calls, lets one trial through
// `cooldown` after opening, and closes when it succeeds (re-opens when it fails). During the
// fault the dependency answers only after `call_timeout` (a failure). It yields the sample logs
// faultline would record (load, state probe) and the true transitions to compare with.

#include "probes/sample_log.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <vector>

namespace faultline::test {

struct breaker_world {
  // The service.
  int failures = 3;
  double cooldown = 1.0;
  double call_timeout = 0.3;  // how long a call to the faulted dependency takes to fail
  double call_time = 0.001;   // a healthy call
  bool fallback = false;      // answers refused or failed calls from a fallback (200, marked) instead of 503
  // The run.
  double fault_start = 5, fault_end = 15;
  double end = 25;
  // The load: requests every 1/rate seconds from `load_from`; none in [gap_from, gap_to).
  double rate = 50;
  double load_from = 0;
  double gap_from = -1, gap_to = -1;
  // The state probe: every `probe_every` seconds from `probe_phase`; 0: none.
  double probe_every = 0.2;
  double probe_phase = 0.0137;

  struct transition {
    double at;
    int from, to;  // 0 closed, 1 open, 2 half-open (the metric's values)
  };

  probes::sample_log load;
  probes::sample_log probe;
  std::vector<transition> truth;

  int half_open_reopenings() const {
    return static_cast<int>(std::count_if(truth.begin(), truth.end(), [](const transition& t) { return t.from == 2 && t.to == 1; }));
  }
  std::optional<double> first(int from, int to, double after = 0) const {
    for (const auto& t : truth)
      if (t.from == from && t.to == to && t.at >= after) return t.at;
    return std::nullopt;
  }
  std::optional<double> last(int from, int to) const {
    std::optional<double> out;
    for (const auto& t : truth)
      if (t.from == from && t.to == to) out = t.at;
    return out;
  }

  // Runs the simulation; call once after setting the fields.
  breaker_world& run() {
    struct call {
      double done;
      bool ok;
      bool trial;
      bool operator>(const call& o) const { return done > o.done; }
    };
    std::priority_queue<call, std::vector<call>, std::greater<>> pending;
    int state = 0, failed = 0;
    double opened = 0;
    bool trial_running = false;
    const auto move = [&](int to, double at) {
      truth.push_back({at, state, to});
      state = to;
    };
    const auto complete_until = [&](double t) {
      while (!pending.empty() && pending.top().done <= t) {
        const auto c = pending.top();
        pending.pop();
        if (c.trial) {
          trial_running = false;
          if (c.ok) {
            failed = 0;
            move(0, c.done);
          } else {
            opened = c.done;
            move(1, c.done);
          }
        } else if (state == 0) {
          failed = c.ok ? 0 : failed + 1;
          if (failed >= failures) {
            opened = c.done;
            move(1, c.done);
          }
        }
      }
    };
    const auto us = [](double s) { return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(s * 1e6)) * 1000); };
    const auto state_at = [&](double t) {
      int s = 0;
      for (const auto& tr : truth)
        if (tr.at <= t) s = tr.to;
      return s;
    };
    const double step = rate > 0 ? 1.0 / rate : 0;
    double next_probe = probe_every > 0 ? probe_phase : end + 1;
    std::vector<double> probe_times;
    for (double t = load_from; rate > 0 && t < end; t += step) {
      complete_until(t);
      if (t >= gap_from && t < gap_to) continue;
      bool allowed = state == 0;
      bool trial = false;
      if (state == 1 && t - opened >= cooldown) {
        move(2, t);
        allowed = trial = trial_running = true;
      }
      const bool faulted = t >= fault_start && t < fault_end;
      if (allowed) {
        const double took = faulted ? call_timeout : call_time;
        pending.push({t + took, !faulted, trial});
        if (faulted)
          load.add(us(t), us(took + 0.0005), fallback ? probes::outcome::ok : probes::outcome::http_5xx, fallback, std::nullopt);
        else
          load.add(us(t), us(took + 0.0005), probes::outcome::ok, false, std::nullopt);
      } else {
        load.add(us(t), us(0.0008), fallback ? probes::outcome::ok : probes::outcome::http_5xx, fallback, std::nullopt);
      }
    }
    complete_until(end + 60);
    for (; next_probe < end; next_probe += probe_every) probe_times.push_back(next_probe);
    for (double t : probe_times) probe.add(us(t), us(0.001), probes::outcome::ok, false, state_at(t + 0.0005));
    load.sort();
    probe.sort();
    return *this;
  }
};

}  // namespace faultline::test
