#include "engine/runner/session.hpp"

#include "core/log.hpp"
#include "engine/metrics/run_metrics.hpp"
#include "engine/runner/capacity_run.hpp"
#include "engine/runner/environment.hpp"
#include "engine/runner/levels.hpp"
#include "engine/runner/live_checks.hpp"
#include "engine/runner/operator_input.hpp"
#include "engine/runner/phases.hpp"
#include "engine/runner/progress.hpp"
#include "engine/runner/run_control.hpp"
#include "engine/runner/run_journal.hpp"
#include "engine/runner/sampler.hpp"
#include "engine/runner/step_runner.hpp"
#include "engine/state_file.hpp"
#include "faults/fault.hpp"
#include "faults/proxy/control_api.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "probes/probe.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <optional>
#include <iostream>
#include <map>

namespace faultline::engine {
namespace {
namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

// How often the live metrics are rebuilt: a scrape sees changes (a fault injected, a phase begun)
// at most this late.
constexpr std::chrono::milliseconds metrics_interval{250};
}  // namespace

// Preflight, then sampling and the phases on one io_context, then the journal.
struct session::impl {
  impl(const experiment& experiment_, const faults::fault_registry& faults_, const probes::probe_registry& probes_,
       run_options options_)
      : x(experiment_),
        fault_types(faults_),
        probe_types(probes_),
        options(std::move(options_)),
        out(options.out ? *options.out : std::cout),
        control(ctl.get_executor(), faultline::steady_clock(), log_to_output()),
        state(options.state_path),
        signals(ctl, SIGINT, SIGTERM),
        id{make_run_id(), {}} {}

  const experiment& x;
  const faults::fault_registry& fault_types;
  const probes::probe_registry& probe_types;
  run_options options;
  std::ostream& out;
  asio::io_context ctl;
  run_control control;
  state_file state;
  asio::signal_set signals;
  run_identity id;
  std::shared_ptr<spdlog::logger> runner_log = logger("runner");

  std::unique_ptr<proxy::proxy_set> proxies;
  // A capacity run holds the timeline's faults during its second search: these are its steps.
  std::optional<experiment> held_faults;
  std::vector<std::unique_ptr<step_runner>> steps;
  std::unique_ptr<probes::timeline> timeline;
  std::vector<std::unique_ptr<sampler>> samplers;
  std::chrono::nanoseconds settle{std::chrono::seconds(1)};
  std::unique_ptr<live_checks> checks;
  std::unique_ptr<progress> status;
  std::unique_ptr<phase_sequence> phases;  // a fault timeline run
  std::unique_ptr<level_sequence> levels;  // a levels run
  std::unique_ptr<capacity_run> capacity;  // a capacity run
  std::unique_ptr<run_metrics> metrics;

  // Progress lines go through the status line once it exists.
  void log(const std::string& line) {
    if (status) status->log(line);
    else out << line << "\n";
  }
  log_line log_to_output() {
    return [this](const std::string& line) { log(line); };
  }

  // Everything that can fail before anything is touched; throws preflight_error or capability_error.
  void preflight() {
    check_privileges(x);
    undo_leftovers(state, fault_types, log_to_output());
    proxies = start_proxies(x, log_to_output());
    faults::fault_context base;
    base.executor = ctl.get_executor();
    base.proxies = proxies.get();
    const experiment* timeline_of = &x;
    if (x.is_capacity_run()) timeline_of = &held_faults.emplace(held_faults_of(x));
    auto faults = prepare_faults(*timeline_of, base, options.interactive);
    steps = make_step_runners(*timeline_of, std::move(faults), {&control, &state, id.run_id, x.name});
  }

  // Sampling starts (window 0 begins now), with the live checks, the status line and the keys.
  // False when the run cannot start; the reason is in control.stop().
  asio::awaitable<bool> start_sampling() {
    try {
      co_await check_upstreams(x);
    } catch (const preflight_error& e) {
      control.fail_run(e.what(), true);
      co_return false;
    }
    const auto t0 = control.now();
    id.started_at = iso_time_now();  // the journal's times count from here: window 0 begins now
    timeline = std::make_unique<probes::timeline>(
        t0, probes::timeline_options{x.settings.window, std::chrono::milliseconds(1), x.settings.fast_failure});
    trial_load* trials = nullptr;
    try {
      samplers = make_samplers(x, probe_types, *timeline, ctl.get_executor());
      if (x.is_capacity_run()) {
        samplers.push_back(make_trial_load(x, *timeline));
        trials = static_cast<trial_load*>(samplers.back().get());
      }
    } catch (const std::exception& e) {
      control.fail_run(e.what(), true);
      co_return false;
    }
    for (auto& s : samplers) settle = std::max(settle, s->settle_time() + std::chrono::milliseconds(250));
    checks = std::make_unique<live_checks>(x, *timeline, settle);
    status = std::make_unique<progress>(out, options.tty, *timeline, control.time(),
                                        x.expect.breaker ? x.expect.breaker->probe : std::string());
    status->set_active_faults([this] {
      std::vector<std::string> names;
      for (const auto& step : steps)
        if (step->active()) names.push_back(step->spec().name);
      return names;
    });
    if (trials)
      capacity = std::make_unique<capacity_run>(x, control, *timeline, *checks, *status, *trials, steps);
    else if (!x.levels.empty())
      levels = std::make_unique<level_sequence>(x, control, *timeline, *checks, *status);
    else
      phases = std::make_unique<phase_sequence>(x, control, *timeline, *checks, *status, steps);
    for (auto& s : samplers) s->start(t0);
    asio::co_spawn(ctl, status->run(control.finished()), log_stray_exception(runner_log, "progress"));
    if (options.metrics) {
      metrics = std::make_unique<run_metrics>(x, id.run_id, probe_types, settle);
      asio::co_spawn(ctl, publish_metrics(), log_stray_exception(runner_log, "metrics"));
    }
    if (options.interactive) {
      operator_keys keys{&control.manual_end(), &control.finished(),
                         [this](const std::string& why) { control.request_abort(why); }, log_to_output()};
      asio::co_spawn(ctl, read_operator_keys(keys), log_stray_exception(runner_log, "operator keys"));
    }
    co_return true;
  }

  // What the metrics show of the runner: the phase and each fault step.
  run_status metrics_status() const {
    run_status st;
    if (x.is_capacity_run()) {  // as start_sampling chooses the kind of run
      st.phases = capacity_run_phases;
      if (capacity) {
        st.phase = capacity->current_phase();
        for (const auto& p : capacity->progress_of_searches()) st.searches.push_back({p.search, p.trials, p.rate});
      }
    } else if (!x.levels.empty()) {
      st.phases = level_run_phases;
      for (const auto& level : x.levels) st.levels.push_back(level.name);
      if (levels) {
        st.phase = levels->current_phase();
        st.level = levels->current_level();
      }
    } else if (phases) {
      st.phase = phases->current_phase();
    }
    for (const auto& step : steps)
      if (!step->spec().is_action)
        st.steps.push_back({step->spec().name, step->spec().type, step->spec().target, step->active()});
    return st;
  }
  prometheus::exposition proxy_metrics() const { return proxies ? proxy::proxy_metrics(*proxies) : prometheus::exposition(); }

  // The live metrics, rebuilt every metrics_interval until the run is over.
  asio::awaitable<void> publish_metrics() {
    while (!control.finished().is_set()) {
      options.metrics->publish(metrics->live(metrics_status(), *timeline, timeline->offset_of(control.now())),
                               proxy_metrics(), false);
      co_await (sleep_for(control.time(), metrics_interval) || control.finished().wait());
    }
  }

  // Stops the samplers and waits for their last samples (each finishes within its timeout).
  asio::awaitable<void> stop_sampling() {
    for (auto& sampler : samplers) sampler->stop();
    const auto deadline = control.now() + settle + std::chrono::seconds(1);
    while (control.now() < deadline &&
           !std::all_of(samplers.begin(), samplers.end(), [](const auto& sampler) { return sampler->done(); }))
      co_await sleep_for(control.time(), std::chrono::milliseconds(20));
  }

  // The phases (which revert what is still injected whatever happens), then sampling stops and
  // every background coroutine ends.
  asio::awaitable<void> supervise() {
    try {
      if (co_await start_sampling()) {
        if (capacity) co_await run_capacity();
        else if (levels) co_await levels->run();
        else co_await phases->run();
      }
    } catch (const std::exception& e) {
      control.fail_run(std::string("internal error: ") + e.what(), false);
    }
    if (timeline) {
      co_await stop_sampling();
      timeline->finish(timeline->offset_of(control.now()));
    }
    if (status) status->finish();
    control.finished().set();
    signals.cancel();
  }

  // The searches, then whatever is still injected is reverted whatever happened.
  asio::awaitable<void> run_capacity() {
    std::string internal;
    try {
      co_await capacity->run();
    } catch (const std::exception& e) {
      internal = e.what();
    }
    if (!internal.empty()) control.fail_run("internal error: " + internal, false);
    for (auto& s : steps)
      if (s->active()) co_await s->revert_now(internal.empty() ? "end of run" : "internal error");
  }

  run_facts facts() const {
    run_facts f;
    if (capacity) {
      f.phases = capacity->spans();
      f.capacity = capacity->searches();
    }
    if (levels) f.phases = levels->spans();
    if (phases) {
      f.phases = phases->spans();
      f.steady_before_failed = phases->steady_before_failure().has_value();
      f.steady_before_reason = phases->steady_before_failure().value_or("");
    }
    for (const auto& s : steps) f.faults.push_back(s->record());
    const auto& stop = control.stop();
    f.aborted = stop.aborted;
    f.abort_reason = stop.abort_reason;
    f.error = stop.error;
    f.error_exit = stop.error_exit;
    return f;
  }

  reports::journal run() {
    id.started_at = iso_time_now();
    preflight();
    asio::co_spawn(ctl, control.watch_signals(signals), log_stray_exception(runner_log, "signal handling"));
    asio::co_spawn(ctl, supervise(), log_stray_exception(runner_log, "the run"));
    ctl.run();
    const auto proxy_families = options.metrics ? proxy_metrics() : prometheus::exposition();
    if (proxies) proxies->stop();
    auto journal = build_journal(x, id, facts(), timeline.get());
    std::map<std::string, nlohmann::json> counters;
    for (const auto& s : samplers) s->add_counters(counters);
    if (!counters.empty()) journal.load_stats = std::move(counters);
    if (options.metrics) {
      if (!metrics) metrics = std::make_unique<run_metrics>(x, id.run_id, probe_types, settle);
      auto st = metrics_status();
      st.phase = "done";
      options.metrics->publish(metrics->final(st, timeline.get(), journal), proxy_families, true);
    }
    return journal;
  }
};

session::session(const experiment& x, const faults::fault_registry& faults, const probes::probe_registry& probes,
                 run_options options)
    : impl_(std::make_unique<impl>(x, faults, probes, std::move(options))) {}

session::~session() = default;

reports::journal session::run() { return impl_->run(); }

}  // namespace faultline::engine
