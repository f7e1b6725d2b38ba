#include "engine/runner/session.hpp"

#include "core/units.hpp"
#include "engine/analysis/analysis.hpp"
#include "engine/recovery.hpp"
#include "engine/runner/environment.hpp"
#include "engine/runner/event.hpp"
#include "engine/runner/live_checks.hpp"
#include "engine/runner/observation.hpp"
#include "engine/runner/operator_input.hpp"
#include "engine/runner/progress.hpp"
#include "engine/runner/sampler.hpp"
#include "engine/runner/step_runner.hpp"
#include "engine/state_file.hpp"
#include "faults/fault.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "probes/probe.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>

namespace faultline::engine {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using steady = std::chrono::steady_clock;
using std::chrono::nanoseconds;

asio::awaitable<void> sleep_until(steady::time_point when) {
  asio::steady_timer timer(co_await asio::this_coro::executor, when);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> sleep_for(nanoseconds d) { co_await sleep_until(steady::now() + d); }

double seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// Logs a coroutine's stray exception instead of losing it.
auto log_failure(std::ostream& out, std::string what) {
  return [&out, what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      out << fmt::format("internal error in {}: {}\n", what, ex.what());
    }
  };
}

}  // namespace

struct session::impl {
  impl(const experiment& experiment_, const faults::fault_registry& faults_, const probes::probe_registry& probes_,
       run_options options_)
      : x(experiment_),
        fault_types(faults_),
        probe_types(probes_),
        options(std::move(options_)),
        out(options.out ? *options.out : std::cout),
        state(options.state_path),
        abort(ctl.get_executor()),
        manual_end(ctl.get_executor()),
        finished(ctl.get_executor()),
        signals(ctl, SIGINT, SIGTERM),
        run_id(make_run_id()) {}

  const experiment& x;
  const faults::fault_registry& fault_types;
  const probes::probe_registry& probe_types;
  run_options options;
  std::ostream& out;
  asio::io_context ctl;
  state_file state;
  event abort;
  event manual_end;
  event finished;  // the run is over: background coroutines end
  asio::signal_set signals;
  std::string run_id;

  std::unique_ptr<proxy::proxy_set> proxies;
  std::unique_ptr<probes::timeline> timeline;
  std::vector<std::unique_ptr<sampler>> samplers;
  std::vector<std::unique_ptr<step_runner>> steps;
  std::unique_ptr<live_checks> checks;
  std::unique_ptr<progress> status;

  run_facts facts;
  steady::time_point t0;
  nanoseconds settle{std::chrono::seconds(1)};
  std::string started_at;
  std::optional<nanoseconds> first_inject;  // offsets from t0
  std::optional<nanoseconds> last_revert;

  // --- small helpers -------------------------------------------------------------------------

  nanoseconds now_offset() const { return steady::now() - t0; }
  std::int64_t window_index(nanoseconds offset) const { return offset / x.settings.window; }
  steady::time_point next_boundary() const {
    const auto w = x.settings.window;
    const auto offset = now_offset();
    return t0 + ((offset + w - nanoseconds(1)) / w) * w;
  }

  void log(const std::string& line) {
    if (status) status->log(line);
    else out << line << "\n";
  }

  void request_abort(const std::string& reason) {
    if (abort.is_set()) return;
    facts.aborted = true;
    facts.abort_reason = reason;
    log(fmt::format("ABORT: {}; reverting every fault now", reason));
    abort.set();
  }

  void fail_run(const std::string& why, bool capability) {
    if (facts.error.empty()) {
      facts.error = why;
      facts.error_exit = capability ? 2 : 4;
    }
    if (!abort.is_set()) {
      log(fmt::format("stopping the run: {}", why));
      abort.set();
    }
  }

  static std::string make_run_id() {
    const auto now = std::chrono::system_clock::now();
    const auto t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z-{}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec, ::getpid());
  }

  // --- preflight: everything that can fail before anything is touched --------------------------

  void undo_leftovers() {
    auto outcome = recover_leftovers(state, fault_types, false);
    for (const auto& line : outcome.undone) log("undid a fault left by a killed run: " + line);
    for (const auto& line : outcome.failed)
      throw preflight_error("a killed run left a fault that cannot be undone: " + line +
                            "; fix it by hand, then run 'faultline recover'");
  }

  void create_steps(const faults::fault_context& base) {
    for (const auto& s : x.timeline.steps) {
      if (s.end == step_end::manual && !s.duration && !options.interactive)
        throw preflight_error(fmt::format("step '{}' lasts until ended by the operator: run with --interactive, or "
                                          "give it 'for:' as an upper bound",
                                          s.name));
      const auto* type = fault_types.find(s.type);
      if (!type || !type->create)
        throw preflight_error(fmt::format("fault type '{}' has no implementation in this build", s.type));
      auto context = base;
      context.target = s.target;
      context.step_name = s.name;
      std::unique_ptr<faults::fault> fault;
      try {
        fault = type->create(s.parameters, context);
        fault->preflight();
      } catch (const faults::capability_error& e) {
        throw faults::capability_error(fmt::format("{}: step '{}' ({}): {}", s.where.position(), s.name, s.type, e.what()));
      } catch (const std::exception& e) {
        throw preflight_error(fmt::format("{}: step '{}' ({}): {}", s.where.position(), s.name, s.type, e.what()));
      }
      step_environment env;
      env.executor = ctl.get_executor();
      env.abort = &abort;
      env.manual_end = &manual_end;
      env.state = &state;
      env.run_id = run_id;
      env.experiment = x.name;
      env.recovered = [this](steady::time_point since) { return wait_recovered(since); };
      env.ended_of = [this](const std::string& name) -> event* {
        for (auto& other : steps)
          if (other->spec().name == name) return &other->ended();
        return &abort;
      };
      env.fail_run = [this](const std::string& why, bool capability) { fail_run(why, capability); };
      env.log = [this](const std::string& line) { log(line); };
      steps.push_back(std::make_unique<step_runner>(s, *type, std::move(fault), env));
    }
  }

  void start_proxies() {
    if (x.proxies.empty()) return;
    proxy::proxy_set::options o;
    o.threads = 2;
    proxies = std::make_unique<proxy::proxy_set>(o);
    for (const auto& p : x.proxies) {
      proxy::proxy_config c;
      c.name = p.name;
      c.listen = p.listen.to_string();
      c.upstream = p.upstream.to_string();
      c.protocol = p.protocol;
      c.allow_non_loopback = p.allow_non_loopback;
      try {
        auto info = proxies->add(c);
        log(fmt::format("proxy {}: {} -> {} ({})", p.name, info.listen, p.upstream.to_string(), p.protocol));
      } catch (const std::exception& e) {
        throw preflight_error(fmt::format("{}: proxy '{}' cannot listen on {}: {}", p.where.position(), p.name,
                                          p.listen.to_string(), e.what()));
      }
    }
  }

  asio::awaitable<void> check_upstreams() {
    for (const auto& p : x.proxies) {
      asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
      auto [rerr, endpoints] = co_await resolver.async_resolve(p.upstream.host, std::to_string(p.upstream.port),
                                                               asio::as_tuple(asio::use_awaitable));
      std::string problem = rerr ? rerr.message() : "";
      if (!rerr) {
        asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
        asio::steady_timer deadline(co_await asio::this_coro::executor, std::chrono::seconds(3));
        auto result = co_await (asio::async_connect(socket, endpoints, asio::as_tuple(asio::use_awaitable)) ||
                                deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (result.index() == 1) problem = "no answer within 3s";
        else if (auto [cerr, ep] = std::get<0>(result); cerr) problem = cerr.message();
      }
      if (!problem.empty())
        throw preflight_error(fmt::format("{}: proxy '{}': its upstream {} is not reachable ({}); start the dependency "
                                          "first or fix the address",
                                          p.where.position(), p.name, p.upstream.to_string(), problem));
    }
  }

  // --- live phases -----------------------------------------------------------------------------

  // Waits until the steady-state rules hold for `stable_for` in windows starting at `since`.
  asio::awaitable<void> wait_recovered(steady::time_point since) {
    const auto from = window_index(since - t0 + x.settings.window / 4 - nanoseconds(1)) ;
    const auto needed = checks->windows_for(x.timeline.recovery.stable_for);
    while (!abort.is_set()) {
      if (checks->steady_run(from, needed, now_offset())) co_return;
      co_await sleep_for(x.settings.window / 4);
    }
  }

  // The steady state before the faults: the rules must hold for `steady_state.for`.
  asio::awaitable<bool> steady_before() {
    if (x.steady_state.require.empty()) co_return true;
    const auto needed = checks->windows_for(x.steady_state.hold_for);
    const auto limit = x.steady_state.wait_limit();
    status->set_phase("steady state", limit);
    log(fmt::format("checking the steady state: {} of consecutive windows where every rule holds",
                    format_duration(x.steady_state.hold_for)));
    while (!abort.is_set()) {
      if (checks->steady_run(0, needed, now_offset())) co_return true;
      if (now_offset() > limit + settle) {
        auto broken = checks->last_broken_rule(0, now_offset());
        facts.steady_before_failed = true;
        facts.steady_before_reason = broken ? fmt::format("\"{}\" did not hold", *broken) : "no complete window";
        log(fmt::format("steady state not met within {}: {}", format_duration(limit), facts.steady_before_reason));
        co_return false;
      }
      co_await sleep_for(x.settings.window / 4);
    }
    co_return false;
  }

  asio::awaitable<void> watch_abort_rules(std::int64_t from_window) {
    while (!abort.is_set() && !finished.is_set()) {
      co_await (sleep_for(x.settings.window / 2) || abort.wait() || finished.wait());
      if (abort.is_set() || finished.is_set()) break;
      if (auto rule = checks->abort_rule(from_window, now_offset())) request_abort(fmt::format("abort_when \"{}\"", *rule));
    }
  }

  asio::awaitable<void> watch_signals() {
    for (;;) {
      auto [ec, signal] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (abort.is_set()) {
        log("rollback in progress; faultline exits when every fault is reverted");
        continue;
      }
      request_abort(signal == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    }
  }

  asio::awaitable<void> run_steps() {
    for (auto& s : steps)
      asio::co_spawn(ctl, s->run(), log_failure(out, "step " + s->spec().name));
    for (auto& s : steps) {
      co_await s->ended().wait();
      const auto& r = s->record();
      if (r.injected_at) {
        auto at = std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(*r.injected_at));
        if (!first_inject || at < *first_inject) first_inject = at;
      }
      if (r.reverted_at) {
        auto at = std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(*r.reverted_at));
        if (!last_revert || at > *last_revert) last_revert = at;
      }
    }
  }

  // Reverts whatever is still active; the last line of defence (exceptions, forced shutdown).
  asio::awaitable<void> revert_all(const std::string& why) {
    for (auto& s : steps)
      if (s->active()) co_await s->revert_now(why);
  }

  asio::awaitable<void> main() {
    try {
      co_await check_upstreams();
    } catch (const preflight_error& e) {
      fail_run(e.what(), true);
      co_return;
    }

    // Sampling starts; window 0 begins now, and the journal's times count from here.
    t0 = steady::now();
    started_at = iso_time_now();
    timeline = std::make_unique<probes::timeline>(t0, probes::timeline_options{x.settings.window, std::chrono::milliseconds(1),
                                                                             x.settings.fast_failure});
    try {
      samplers = make_samplers(x, probe_types, *timeline, ctl.get_executor());
    } catch (const std::exception& e) {
      fail_run(e.what(), true);
      co_return;
    }
    for (auto& s : samplers) settle = std::max(settle, s->settle_time() + std::chrono::milliseconds(250));
    checks = std::make_unique<live_checks>(x, *timeline, settle);
    status = std::make_unique<progress>(out, options.tty, *timeline, t0, x.settings.window,
                                        x.expect.breaker ? x.expect.breaker->probe : std::string());
    status->set_active_faults([this] {
      std::vector<std::string> names;
      for (const auto& step : steps)
        if (step->active()) names.push_back(step->spec().name);
      return names;
    });
    for (auto& s : samplers) s->start(t0);
    asio::co_spawn(ctl, status->run(finished), log_failure(out, "progress"));
    if (options.interactive) {
      operator_keys keys{&manual_end, &finished, [this](const std::string& why) { request_abort(why); },
                         [this](const std::string& line) { log(line); }};
      asio::co_spawn(ctl, read_operator_keys(keys), log_failure(out, "operator keys"));
    }

    const bool steady = co_await steady_before();
    std::vector<reports::phase_span>& phases = facts.phases;
    if (!steady || abort.is_set()) {
      phases.push_back({"steady_before", 0, seconds(now_offset())});
      co_return;
    }

    // Baseline, on the window grid.
    const auto baseline_start = next_boundary();
    co_await (sleep_until(baseline_start) || abort.wait());
    timeline->mark(probes::phase::baseline, baseline_start - t0);
    phases.push_back({"steady_before", 0, seconds(baseline_start - t0)});
    status->set_phase("baseline", x.timeline.baseline);
    log(fmt::format("baseline: {} of normal operation", format_duration(x.timeline.baseline)));
    asio::co_spawn(ctl, watch_abort_rules(window_index(baseline_start - t0)), log_failure(out, "abort rules"));
    const auto fault_phase_start = baseline_start + x.timeline.baseline;
    co_await (sleep_until(fault_phase_start) || abort.wait());

    // The fault timeline.
    for (auto& s : steps) s->set_times(t0, fault_phase_start);
    status->set_phase("faults", x.planned_fault_phase());
    co_await run_steps();
    const auto fault_begin = first_inject.value_or(fault_phase_start - t0);
    const auto fault_end = std::max(last_revert.value_or(now_offset()), fault_begin);
    phases.push_back({"baseline", seconds(baseline_start - t0), seconds(fault_begin)});
    phases.push_back({"fault", seconds(fault_begin), seconds(fault_end)});
    timeline->mark(probes::phase::fault, fault_begin);
    timeline->mark(probes::phase::recovery, fault_end);
    if (abort.is_set()) co_return;

    // Recovery: until the rules hold for stable_for, at most recovery.timeout.
    status->set_phase("recovery", x.timeline.recovery.timeout);
    log(fmt::format("recovery: waiting for the steady state to hold for {} (at most {})",
                    format_duration(x.timeline.recovery.stable_for), format_duration(x.timeline.recovery.timeout)));
    auto after_start = fault_end + x.timeline.recovery.stable_for;
    if (!x.steady_state.require.empty()) {
      const auto from = window_index(fault_end + x.settings.window / 4 - nanoseconds(1)) + 0;
      const auto needed = checks->windows_for(x.timeline.recovery.stable_for);
      const auto deadline = fault_end + x.timeline.recovery.timeout + needed * x.settings.window + settle;
      std::optional<std::int64_t> run_start;
      while (!abort.is_set() && !run_start && now_offset() < deadline) {
        run_start = checks->steady_run(from, needed, now_offset());
        if (!run_start) co_await (sleep_for(x.settings.window / 4) || abort.wait());
      }
      if (run_start) {
        after_start = (*run_start + needed) * x.settings.window;
        log(fmt::format("recovered: steady from {} after the last revert",
                        format_duration(std::max(nanoseconds(0), *run_start * x.settings.window - fault_end))));
      } else if (!abort.is_set()) {
        after_start = std::max(now_offset(), fault_end + x.timeline.recovery.timeout);
        log(fmt::format("not recovered within {}", format_duration(x.timeline.recovery.timeout)));
      }
    } else {
      co_await (sleep_until(t0 + after_start) || abort.wait());
    }
    phases.push_back({"recovery", seconds(fault_end), seconds(after_start)});
    if (abort.is_set()) co_return;

    // After: the steady state must hold again for steady_state.for.
    timeline->mark(probes::phase::after, after_start);
    status->set_phase("after", x.steady_state.hold_for);
    const auto after_end = after_start + x.steady_state.hold_for;
    co_await (sleep_until(t0 + after_end) || abort.wait());
    phases.push_back({"after", seconds(after_start), seconds(after_end)});
  }

  // Stops the samplers and waits for their last samples (each finishes within its timeout).
  asio::awaitable<void> stop_sampling() {
    for (auto& sampler : samplers) sampler->stop();
    const auto deadline = steady::now() + settle + std::chrono::seconds(1);
    while (steady::now() < deadline &&
           !std::all_of(samplers.begin(), samplers.end(), [](const auto& sampler) { return sampler->done(); }))
      co_await sleep_for(std::chrono::milliseconds(20));
  }

  // Runs main() and then, whatever happened, reverts what is still injected, stops sampling and
  // lets every background coroutine end.
  asio::awaitable<void> supervise() {
    std::string internal;
    try {
      co_await main();
    } catch (const std::exception& e) {
      internal = e.what();
    }
    if (!internal.empty()) {
      fail_run("internal error: " + internal, false);
      // Steps end on abort; give their reverts time, then revert anything left directly.
      for (auto& step : steps) co_await (step->ended().wait() || sleep_for(std::chrono::seconds(30)));
    }
    co_await revert_all(internal.empty() ? "end of run" : "internal error");
    if (timeline) {
      co_await stop_sampling();
      timeline->finish(now_offset());
    }
    if (status) status->finish();
    finished.set();
    signals.cancel();
  }

  reports::journal build_journal() {
    reports::journal j;
    j.run_id = run_id;
    j.experiment = {x.name, x.file.string(), x.description, x.tags, x.resolved_yaml};
    j.environment = describe_environment();
    j.started_at = started_at;
    j.ended_at = iso_time_now();
    j.window = seconds(x.settings.window);
    for (auto& s : steps) {
      facts.faults.push_back(s->record());
      if (!s->record().engine.empty()) j.environment.engines[s->spec().name] = s->record().engine;
    }
    facts.window = j.window;
    if (timeline) {
      // Windows up to the end of the last phase: what comes after is only the samplers stopping.
      double last = 0;
      for (const auto& p : facts.phases) last = std::max(last, p.end);
      const auto end = std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(last));
      const auto windows = (end + x.settings.window - nanoseconds(1)) / x.settings.window;
      std::map<std::string, std::string> kinds{{"load", "load"}};
      for (const auto& p : x.probes) kinds[p.name] = p.type;
      facts.series = series_records(*timeline, kinds, windows);
      facts.phase_stats = phase_stats(*timeline, facts.phases);
      facts.samples = sample_logs(*timeline);
      j.timeline = timeline->to_json();
    }
    j.phases = facts.phases;
    j.faults = facts.faults;
    j.series = facts.series;
    j.analysis = analyse(x, facts);
    j.verdict = decide(facts, j.analysis);
    return j;
  }

  reports::journal run() {
    started_at = iso_time_now();
    t0 = steady::now();
    faults::fault_context base;
    base.executor = ctl.get_executor();
    undo_leftovers();
    start_proxies();
    base.proxies = proxies.get();
    create_steps(base);
    asio::co_spawn(ctl, watch_signals(), log_failure(out, "signal handling"));
    asio::co_spawn(ctl, supervise(), log_failure(out, "the run"));
    ctl.run();
    if (proxies) proxies->stop();
    return build_journal();
  }
};

session::session(const experiment& x, const faults::fault_registry& faults, const probes::probe_registry& probes,
                 run_options options)
    : impl_(std::make_unique<impl>(x, faults, probes, std::move(options))) {}

session::~session() = default;

reports::journal session::run() { return impl_->run(); }

}  // namespace faultline::engine
