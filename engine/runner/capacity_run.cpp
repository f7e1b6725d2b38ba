#include "engine/runner/capacity_run.hpp"

#include "core/log.hpp"
#include "core/units.hpp"
#include "engine/runner/levels.hpp"
#include "faults/fault.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace faultline::engine {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using std::chrono::nanoseconds;

double seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

experiment held_faults_of(const experiment& x) {
  experiment held = x;
  held.timeline.steps.clear();
  for (const auto& s : x.timeline.steps) {
    if (s.is_action) continue;
    step h = s;
    h.index = held.timeline.steps.size();
    h.at = nanoseconds(0);
    h.end = step_end::after_step;  // the end of the search (capacity_run wires it)
    h.until_step.clear();
    h.duration.reset();
    held.timeline.steps.push_back(std::move(h));
  }
  return held;
}

capacity_run::capacity_run(const experiment& x, run_control& control, const probes::timeline& timeline,
                           const live_checks& checks, progress& status, trial_load& load,
                           std::vector<std::unique_ptr<step_runner>>& faults)
    : x_(x),
      control_(control),
      timeline_(timeline),
      checks_(checks),
      status_(status),
      load_(load),
      faults_(faults),
      rules_(x.capacity.require.empty() ? x.steady_state.require : x.capacity.require),
      search_over_(control.executor()) {
  for (auto& f : faults_) f->end_with(search_over_);
}

nanoseconds capacity_run::offset() const { return timeline_.offset_of(control_.now()); }

std::string capacity_run::describe_faults() const {
  std::string out;
  for (const auto& f : faults_) {
    const auto& s = f->spec();
    auto params = format_params(s.fault_type->params, s.parameters);
    out += fmt::format("{}{}{}{}", out.empty() ? "" : " and ", s.type, s.target.empty() ? "" : " on " + s.target,
                       params.empty() ? "" : " (" + params + ")");
  }
  return out;
}

asio::awaitable<void> capacity_run::run() {
  asio::co_spawn(control_.executor(), watch_abort_rules(control_, checks_, timeline_.start(), 0),
                 log_stray_exception(logger("runner"), "abort rules"));
  auto start = offset();
  current_ = "capacity";
  co_await search("healthy", "");
  spans_.push_back({"capacity", seconds(start), seconds(offset())});
  if (faults_.empty() || control_.abort().is_set()) {
    current_ = "done";
    co_return;
  }

  start = offset();
  current_ = "capacity_under_fault";
  const bool injected = co_await inject_all();
  if (injected && !control_.abort().is_set()) {
    // Let the system feel the faults before the first trial.
    co_await (sleep_for(control_.time(), x_.capacity.cooldown) || control_.abort().wait());
    co_await search("under_fault", describe_faults());
  }
  search_over_.set();
  for (auto& f : faults_) co_await f->ended().wait();
  spans_.push_back({"capacity_under_fault", seconds(start), seconds(offset())});
  current_ = "done";
}

// Injects every held fault; false when one failed (the step stops the run itself).
asio::awaitable<bool> capacity_run::inject_all() {
  const fault_phase phase{timeline_.start(), control_.now(), [](clock::time_point) -> asio::awaitable<void> { co_return; }};
  for (auto& f : faults_)
    asio::co_spawn(control_.executor(), f->run(phase), log_stray_exception(logger("runner"), "step " + f->spec().name));
  for (;;) {
    const bool all = std::all_of(faults_.begin(), faults_.end(), [](const auto& f) { return f->record().injected_at.has_value(); });
    const bool failed = std::any_of(faults_.begin(), faults_.end(), [](const auto& f) { return f->ended().is_set(); });
    if (all || failed || control_.abort().is_set()) co_return all && !failed;
    co_await (sleep_for(control_.time(), std::chrono::milliseconds(20)) || control_.abort().wait());
  }
}

asio::awaitable<void> capacity_run::search(const std::string& condition, const std::string& faults) {
  const auto& spec = x_.capacity;
  capacity_search s(spec);
  progress_.push_back({condition, 0, 0});
  const auto deadline = control_.now() + spec.time_limit;
  control_.log(fmt::format("capacity search{}: from {} up to {}, {} trials (judged after {}), precision {}, at most {}",
                           faults.empty() ? "" : " while " + faults, format_rate(spec.from), format_rate(spec.up_to),
                           format_duration(spec.trial), format_duration(spec.warmup), format_fraction(spec.precision),
                           format_duration(spec.time_limit)));
  int number = 0;
  while (auto rate = s.next()) {
    if (control_.abort().is_set()) break;
    if (control_.now() + x_.settings.window + spec.trial + checks_.settle() > deadline) {
      s.stop_early();
      break;
    }
    ++number;
    progress_.back().trials = number;
    progress_.back().rate = *rate;
    s.record(co_await trial(*rate, number, number + s.trials_left_at_most() - 1));
    if (control_.abort().is_set()) break;
    co_await (sleep_for(control_.time(), spec.cooldown) || control_.abort().wait());
  }
  auto result = s.result();
  result.condition = condition;
  result.faults = faults;
  std::string summary = result.trials.empty() ? "no trial ran"
                        : result.capacity == 0 ? fmt::format("the rules broke at every rate down to {}", format_measured_rate(result.broke_at.value_or(0)))
                        : fmt::format("{}{}", format_measured_rate(result.capacity), result.at_limit ? " (the search's limit, up_to)" : "");
  if (result.broke_at && result.capacity > 0) summary += fmt::format("; broke at {}", format_measured_rate(*result.broke_at));
  if (result.knee) summary += fmt::format("; knee at {}", format_measured_rate(*result.knee));
  if (result.out_of_time) summary += fmt::format(" (the time limit of {} ended the search)", format_duration(spec.time_limit));
  control_.log(fmt::format("capacity {}: {}", condition == "healthy" ? "healthy" : "while " + faults, summary));
  searches_.push_back(std::move(result));
}

asio::awaitable<capacity_trial> capacity_run::trial(double rate, int number, int at_most) {
  const auto& spec = x_.capacity;
  const auto width = x_.settings.window;
  const auto now = offset();
  const auto start = ((now + width - nanoseconds(1)) / width) * width;  // the next window boundary
  const auto end = start + spec.trial;
  const auto judged_from = ((start + spec.warmup + width - nanoseconds(1)) / width) * width;
  const auto judged_to = std::max(judged_from + width, (end / width) * width);
  status_.set_phase(fmt::format("capacity trial {}/{} at {}", number, at_most, format_rate(rate)), end - now);
  load_.start_trial(rate, spec.trial, timeline_.start() + start);
  co_await (sleep_until(control_.time(), timeline_.start() + end) || control_.abort().wait());
  if (control_.abort().is_set()) load_.stop();
  // The judged windows are complete once every request intended in them has its answer.
  const auto complete = timeline_.start() + judged_to + checks_.settle();
  co_await (sleep_until(control_.time(), complete) || control_.abort().wait());
  for (int i = 0; i < 500 && !load_.done(); ++i) co_await sleep_for(control_.time(), std::chrono::milliseconds(20));

  const auto r = judge_live_span(timeline_, rules_, seconds(judged_from), seconds(judged_to));
  capacity_trial t;
  t.rate = rate;
  t.achieved = r.rate;
  t.count = r.count;
  t.error_rate = r.error_rate;
  t.p50 = r.p50;
  t.p95 = r.p95;
  t.p99 = r.p99;
  t.held = r.held() && !control_.abort().is_set();
  t.broken = r.first_broken();
  t.start = seconds(judged_from);
  t.end = seconds(judged_to);
  control_.log(fmt::format("trial {}: {} -> {:.1f}/s answered, p50 {}, p95 {}, p99 {}, errors {}: {}", number,
                           format_rate(rate), t.achieved, format_seconds(t.p50), format_seconds(t.p95),
                           format_seconds(t.p99), format_percent(t.error_rate), t.held ? "held" : "broke " + t.broken));
  co_return t;
}

}  // namespace faultline::engine
