#include "engine/runner/phases.hpp"

#include "core/log.hpp"
#include "core/units.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace faultline::engine {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using std::chrono::nanoseconds;

double seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

nanoseconds from_seconds(double s) {
  return std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(s));
}

}  // namespace

phase_sequence::phase_sequence(const experiment& x, run_control& control, probes::timeline& timeline,
                               const live_checks& checks, progress& status,
                               std::vector<std::unique_ptr<step_runner>>& steps)
    : x_(x), control_(control), timeline_(timeline), checks_(checks), status_(status), steps_(steps) {}

nanoseconds phase_sequence::offset() const { return timeline_.offset_of(control_.now()); }

std::int64_t phase_sequence::window_index(nanoseconds offset) const { return offset / x_.settings.window; }

std::int64_t phase_sequence::first_window_after(nanoseconds offset) const {
  return window_index(offset + x_.settings.window / 4 - nanoseconds(1));
}

asio::awaitable<void> phase_sequence::run() {
  static constexpr std::array<phase, 5> phases{&phase_sequence::steady_before, &phase_sequence::baseline,
                                               &phase_sequence::fault_timeline, &phase_sequence::recovery,
                                               &phase_sequence::after};
  static constexpr std::array<std::string_view, 5> names{"steady_before", "baseline", "fault", "recovery", "after"};
  std::string internal;
  try {
    for (std::size_t i = 0; i < phases.size(); ++i) {
      current_ = names[i];
      if (!co_await (this->*phases[i])()) break;
    }
  } catch (const std::exception& e) {
    internal = e.what();
  }
  if (!internal.empty()) {
    control_.fail_run("internal error: " + internal, false);
    // Steps end on abort; give their reverts time, then revert anything left directly.
    for (auto& s : steps_) co_await (s->ended().wait() || sleep_for(control_.time(), std::chrono::seconds(30)));
  }
  co_await revert_all(internal.empty() ? "end of run" : "internal error");
  current_ = "done";
}

// Reverts whatever is still active: the last line of defence (exceptions, a step that did not end).
asio::awaitable<void> phase_sequence::revert_all(const std::string& why) {
  for (auto& s : steps_)
    if (s->active()) co_await s->revert_now(why);
}

asio::awaitable<std::optional<std::int64_t>> phase_sequence::wait_steady(std::int64_t from, std::int64_t needed,
                                                                         clock::time_point deadline) {
  auto& abort = control_.abort();
  while (!abort.is_set()) {
    if (auto run = checks_.steady_run(from, needed, offset())) co_return run;
    if (control_.now() >= deadline) break;
    co_await (sleep_for(control_.time(), x_.settings.window / 4) || abort.wait());
  }
  co_return std::nullopt;
}

asio::awaitable<void> phase_sequence::recovered(clock::time_point since) {
  co_await wait_steady(first_window_after(timeline_.offset_of(since)),
                       checks_.windows_for(x_.timeline.recovery.stable_for), clock::time_point::max());
}

// The steady state before the faults: the rules must hold for `steady_state.for`.
asio::awaitable<bool> phase_sequence::steady_before() {
  bool steady = true;
  if (!x_.steady_state.require.empty()) {
    const auto limit = x_.steady_state.wait_limit();
    status_.set_phase("steady state", limit);
    control_.log(fmt::format("checking the steady state: {} of consecutive windows where every rule holds",
                             format_duration(x_.steady_state.hold_for)));
    const auto run = co_await wait_steady(0, checks_.windows_for(x_.steady_state.hold_for), at(limit + checks_.settle()));
    steady = run.has_value();
    if (!steady && !control_.abort().is_set()) {
      auto broken = checks_.last_broken_rule(0, offset());
      steady_before_failure_ = broken ? fmt::format("\"{}\" did not hold", *broken) : "no complete window";
      control_.log(fmt::format("steady state not met within {}: {}", format_duration(limit), *steady_before_failure_));
    }
  }
  if (!steady || control_.abort().is_set()) {
    spans_.push_back({"steady_before", 0, seconds(offset())});
    co_return false;
  }
  co_return true;
}

// The baseline, on the window grid; abort_when is watched from here on.
asio::awaitable<bool> phase_sequence::baseline() {
  auto& abort = control_.abort();
  const auto width = x_.settings.window;
  baseline_start_ = ((offset() + width - nanoseconds(1)) / width) * width;  // the next window boundary
  co_await (sleep_until(control_.time(), at(baseline_start_)) || abort.wait());
  timeline_.mark(probes::phase::baseline, baseline_start_);
  spans_.push_back({"steady_before", 0, seconds(baseline_start_)});
  status_.set_phase("baseline", x_.timeline.baseline);
  control_.log(fmt::format("baseline: {} of normal operation", format_duration(x_.timeline.baseline)));
  asio::co_spawn(control_.executor(), watch_abort_rules(control_, checks_, timeline_.start(), window_index(baseline_start_)),
                 log_stray_exception(logger("runner"), "abort rules"));
  fault_phase_start_ = baseline_start_ + x_.timeline.baseline;
  co_await (sleep_until(control_.time(), at(fault_phase_start_)) || abort.wait());
  co_return true;  // the fault timeline runs even after an abort: every step then records its end
}

// The steps, each on its own; the phase lasts from the first inject to the last revert.
asio::awaitable<bool> phase_sequence::fault_timeline() {
  status_.set_phase("faults", x_.planned_fault_phase());
  const fault_phase timing{timeline_.start(), at(fault_phase_start_),
                           [this](clock::time_point since) { return recovered(since); }};
  for (auto& s : steps_)
    asio::co_spawn(control_.executor(), s->run(timing), log_stray_exception(logger("runner"), "step " + s->spec().name));
  std::optional<nanoseconds> first_inject;
  std::optional<nanoseconds> last_revert;
  for (auto& s : steps_) {
    co_await s->ended().wait();
    const auto& r = s->record();
    if (r.injected_at) first_inject = std::min(first_inject.value_or(nanoseconds::max()), from_seconds(*r.injected_at));
    if (r.reverted_at) last_revert = std::max(last_revert.value_or(nanoseconds::min()), from_seconds(*r.reverted_at));
  }
  const auto fault_begin = first_inject.value_or(fault_phase_start_);
  fault_end_ = std::max(last_revert.value_or(offset()), fault_begin);
  spans_.push_back({"baseline", seconds(baseline_start_), seconds(fault_begin)});
  spans_.push_back({"fault", seconds(fault_begin), seconds(fault_end_)});
  timeline_.mark(probes::phase::fault, fault_begin);
  timeline_.mark(probes::phase::recovery, fault_end_);
  co_return !control_.abort().is_set();
}

// Until the rules hold for stable_for, at most recovery.timeout.
asio::awaitable<bool> phase_sequence::recovery() {
  const auto& r = x_.timeline.recovery;
  status_.set_phase("recovery", r.timeout);
  control_.log(fmt::format("recovery: waiting for the steady state to hold for {} (at most {})",
                           format_duration(r.stable_for), format_duration(r.timeout)));
  after_start_ = fault_end_ + r.stable_for;
  if (!x_.steady_state.require.empty()) {
    const auto width = x_.settings.window;
    const auto needed = checks_.windows_for(r.stable_for);
    const auto deadline = fault_end_ + r.timeout + needed * width + checks_.settle();
    const auto run = co_await wait_steady(first_window_after(fault_end_), needed, at(deadline));
    if (run) {
      after_start_ = (*run + needed) * width;
      control_.log(fmt::format("recovered: steady from {} after the last revert",
                               format_duration(std::max(nanoseconds(0), *run * width - fault_end_))));
    } else if (!control_.abort().is_set()) {
      after_start_ = std::max(offset(), fault_end_ + r.timeout);
      control_.log(fmt::format("not recovered within {}", format_duration(r.timeout)));
    }
  } else {
    co_await (sleep_until(control_.time(), at(after_start_)) || control_.abort().wait());
  }
  spans_.push_back({"recovery", seconds(fault_end_), seconds(after_start_)});
  co_return !control_.abort().is_set();
}

// The steady state must hold again for steady_state.for; the analysis judges it.
asio::awaitable<bool> phase_sequence::after() {
  timeline_.mark(probes::phase::after, after_start_);
  status_.set_phase("after", x_.steady_state.hold_for);
  const auto after_end = after_start_ + x_.steady_state.hold_for;
  co_await (sleep_until(control_.time(), at(after_end)) || control_.abort().wait());
  spans_.push_back({"after", seconds(after_start_), seconds(after_end)});
  co_return true;
}

}  // namespace faultline::engine
