// The phase sequence on a manual clock, with fake faults and a scripted health probe: the order
// and spans of the phases, overlapping steps, each kind of `until`, abort rules and requests, a
// signal, failures, and a steady state that does not hold. Windows are 1s; a window counts once
// complete, 1s (the settle time) after it ends.

#include "tests/engine/runner/manual_run.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <catch2/catch.hpp>

#include <csignal>

using namespace faultline;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using strings = std::vector<std::string>;

namespace {

// Steady state 2s (waited for at most 4s), baseline 2s, recovery stable for 2s within 10s.
std::string experiment(const std::string& steps, const std::string& extra = "") {
  return "version: 1\n"
         "name: phases\n"
         "probes:\n"
         "  health: { tcp: { address: \"127.0.0.1:9\" } }\n"
         "steady_state: { for: 2s, timeout: 4s, require: [ \"health.ok\" ] }\n"
         "timeline:\n"
         "  baseline: 2s\n"
         "  steps:\n" +
         steps + "  recovery: { timeout: 10s, stable_for: 2s }\n" + extra;
}

// Runs the phases to their end against a system that stays healthy.
void run_healthy(test::manual_run& run) {
  run.health(0s, 60s, true);
  run.start_phases();
  REQUIRE(run.run_until(60s));
}

strings spans(const test::manual_run& run) {
  strings out;
  for (const auto& p : run.phases.spans()) out.push_back(fmt::format("{} {:g}..{:g}", p.name, p.start, p.end));
  return out;
}

}  // namespace

TEST_CASE("the phases run in order on the run's clock: steady state, baseline, faults, recovery, after", "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, for: 3s, fault: fake }\n"
                                  "    - { name: b, at: 1s, for: 3s, fault: fake }\n"));
  run_healthy(run);
  // Windows 0-1 are complete at 3s: the baseline starts there and the faults at 5s. The last revert
  // is at 9s; windows 9-10 hold and are complete at 12s, so the after phase runs from 11s to 13s.
  CHECK(spans(run) == strings{"steady_before 0..3", "baseline 3..5", "fault 5..9", "recovery 9..11", "after 11..13"});
  CHECK(run.calls() == strings{"inject a @5000ms", "inject b @6000ms", "revert a @8000ms", "revert b @9000ms"});
  CHECK(run.now() == 13s);
  CHECK(run.timeline.marks() == std::vector<probes::phase_mark>{{probes::phase::baseline, 3s},
                                                                 {probes::phase::fault, 5s},
                                                                 {probes::phase::recovery, 9s},
                                                                 {probes::phase::after, 11s}});
  CHECK_FALSE(run.phases.steady_before_failure());
  CHECK(run.logged("recovered: steady from 0s after the last revert"));
  CHECK_FALSE(run.control.stop().aborted);
  CHECK(run.control.stop().error.empty());
  const auto status = run.status_out.str();
  CHECK_THAT(status, Contains("[steady state 0:00/0:04]"));
  CHECK_THAT(status, Contains("[baseline 0:00/0:02]"));
  CHECK_THAT(status, Contains("[faults 0:00/0:04]"));
  CHECK_THAT(status, Contains("[recovery 0:00/0:10]"));
  CHECK_THAT(status, Contains("[after 0:00/0:02]"));
}

TEST_CASE("overlapping steps inject and revert in time order and the fault phase spans them all", "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, for: 4s, fault: fake }\n"
                                  "    - { name: b, at: 1s, for: 1500ms, fault: fake }\n"
                                  "    - { name: c, at: 2s, for: 3s, fault: fake }\n"));
  run.health(0s, 60s, true);
  run.start_phases();
  run.run_until(7200ms);
  CHECK(run.step("a").active());
  CHECK(run.step("b").active());
  CHECK(run.step("c").active());
  REQUIRE(run.run_until(60s));
  CHECK(run.calls() == strings{"inject a @5000ms", "inject b @6000ms", "inject c @7000ms", "revert b @7500ms",
                               "revert a @9000ms", "revert c @10000ms"});
  CHECK(spans(run)[2] == "fault 5..10");
}

TEST_CASE("until: <step> reverts after the step it waits for, at the same moment", "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, until: b, fault: fake }\n"
                                  "    - { name: b, at: 2s, for: 1s, fault: fake }\n"));
  run_healthy(run);
  CHECK(run.calls() == strings{"inject a @5000ms", "inject b @7000ms", "revert b @8000ms", "revert a @8000ms"});
  CHECK(spans(run)[2] == "fault 5..8");
}

TEST_CASE("until: manual lasts until the operator ends it and the run then goes on", "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, until: manual, fault: fake }\n"), true);
  run.health(0s, 60s, true);
  run.start_phases();
  CHECK_FALSE(run.run_until(30s));
  CHECK(run.step("a").active());
  run.control.manual_end().set();
  REQUIRE(run.run_until(60s));
  CHECK(run.calls() == strings{"inject a @5000ms", "revert a @30000ms"});
  CHECK(spans(run) == strings{"steady_before 0..3", "baseline 3..5", "fault 5..30", "recovery 30..32", "after 32..34"});
}

TEST_CASE("until: recovered reverts once the steady state holds again while faulted, or at its bound", "[engine]") {
  struct outage {
    std::chrono::seconds ends;
    strings calls;
    strings spans;
  };
  const std::vector<outage> outages{
      // From window 5 (the inject), windows 8-9 are the first two that hold; complete at 11s.
      {8s,
       {"inject a @5000ms", "revert a @11000ms"},
       {"steady_before 0..3", "baseline 3..5", "fault 5..11", "recovery 11..13", "after 13..15"}},
      // Never: the step ends at its bound, recovery at its deadline: the last revert + timeout +
      // the windows needed + the settle time = 25 + 10 + 2 + 1.
      {60s,
       {"inject a @5000ms", "revert a @25000ms"},
       {"steady_before 0..3", "baseline 3..5", "fault 5..25", "recovery 25..38", "after 38..40"}},
  };
  for (const auto& o : outages) {
    test::manual_run run(experiment("    - { name: a, at: 0s, until: recovered, for: 20s, fault: fake }\n"));
    run.health(0s, 5s, true);
    run.health(5s, o.ends, false);
    run.health(o.ends, 60s, true);
    run.start_phases();
    REQUIRE(run.run_until(60s));
    CHECK(run.calls() == o.calls);
    CHECK(spans(run) == o.spans);
    CHECK(run.logged("not recovered within 10s") == (o.ends == 60s));
  }
}

TEST_CASE("without steady-state rules there is no wait: recovery lasts stable_for", "[engine]") {
  test::manual_run run("version: 1\n"
                       "name: plain\n"
                       "timeline:\n"
                       "  baseline: 2s\n"
                       "  steps:\n"
                       "    - { name: a, at: 0s, for: 2s, fault: fake }\n"
                       "  recovery: { stable_for: 2s }\n");
  run.start_phases();
  REQUIRE(run.run_until(60s));
  CHECK(run.calls() == strings{"inject a @2000ms", "revert a @4000ms"});
  CHECK(spans(run) == strings{"steady_before 0..0", "baseline 0..2", "fault 2..4", "recovery 4..6", "after 6..11"});
}

TEST_CASE("when the steady state does not hold, no fault is injected", "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, for: 3s, fault: fake }\n"));
  run.health(0s, 60s, false);
  run.start_phases();
  REQUIRE(run.run_until(60s));
  CHECK(run.calls().empty());
  // The wait lasts the steady state's timeout plus the settle time.
  CHECK(spans(run) == strings{"steady_before 0..5"});
  CHECK(run.phases.steady_before_failure() == std::optional<std::string>("\"health.ok\" did not hold"));
  CHECK(run.logged("steady state not met within 4s"));
  CHECK_FALSE(run.step("a").record().injected_at);
}

TEST_CASE("an abort_when rule stops the run and reverts every fault", "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, for: 10s, fault: fake }\n",
                                  "abort_when: [ \"health.errors > 0 for 2s\" ]\n"));
  run.health(0s, 6s, true);
  run.health(6s, 60s, false);
  run.start_phases();
  REQUIRE(run.run_until(60s));
  // Windows 6 and 7 fail; they are complete at 9s, on the watch's half-window beat.
  CHECK(run.calls() == strings{"inject a @5000ms", "revert a @9000ms"});
  CHECK(spans(run) == strings{"steady_before 0..3", "baseline 3..5", "fault 5..9"});
  CHECK(run.control.stop().aborted);
  CHECK(run.control.stop().abort_reason == "abort_when \"health.errors > 0 for 2s\"");
  CHECK(run.logged("ABORT: abort_when"));
}

TEST_CASE("an abort request (the operator's key) reverts at once and later steps never start", "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, for: 10s, fault: fake }\n"
                                  "    - { name: b, at: 3s, for: 10s, fault: fake }\n"));
  run.health(0s, 60s, true);
  run.start_phases();
  run.run_until(6500ms);
  run.control.request_abort("aborted by the operator");
  REQUIRE(run.run_until(60s));
  CHECK(run.calls() == strings{"inject a @5000ms", "revert a @6500ms"});
  CHECK_FALSE(run.step("b").record().injected_at);
  CHECK(spans(run) == strings{"steady_before 0..3", "baseline 3..5", "fault 5..6.5"});
  CHECK(run.control.stop().abort_reason == "aborted by the operator");
}

TEST_CASE("SIGINT aborts the run and reverts every fault, a second signal only says the rollback runs",
          "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, for: 10s, fault: fake }\n"));
  run.health(0s, 60s, true);
  boost::asio::signal_set signals(run.io, SIGINT, SIGTERM);
  boost::asio::co_spawn(run.io, run.control.watch_signals(signals), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  run.start_phases();
  run.run_until(6s);
  REQUIRE(run.step("a").active());
  ::raise(SIGINT);
  // The signal reaches the io_context through its reactor: poll until it has (it takes no time).
  for (int i = 0; i < 1000 && !run.control.abort().is_set(); ++i) run.run_until(6s);
  REQUIRE(run.run_until(60s));
  CHECK(run.calls() == strings{"inject a @5000ms", "revert a @6000ms"});
  CHECK(run.control.stop().abort_reason == "interrupted (SIGINT)");
  ::raise(SIGINT);
  for (int i = 0; i < 1000 && !run.logged("rollback in progress"); ++i) run.run_until(60s);
  CHECK(run.logged("rollback in progress; faultline exits when every fault is reverted"));
  signals.cancel();
  run.run_until(60s);
}

TEST_CASE("a failed inject stops the run: the other faults are reverted and no recovery runs", "[engine]") {
  test::manual_run run(experiment("    - { name: a, at: 0s, for: 10s, fault: fake }\n"
                                  "    - { name: b, at: 1s, for: 10s, fault: fake }\n"));
  run.world.behaviour["b"].fail_inject = true;
  run.world.behaviour["b"].capability = true;
  run_healthy(run);
  CHECK(run.calls() == strings{"inject a @5000ms", "inject b @6000ms", "revert b @6000ms", "revert a @6000ms"});
  CHECK(spans(run) == strings{"steady_before 0..3", "baseline 3..5", "fault 5..6"});
  CHECK(run.control.stop().error == "step 'b' (fake): the fake lacks a capability");
  CHECK(run.control.stop().error_exit == 2);
  CHECK_FALSE(run.control.stop().aborted);
}
