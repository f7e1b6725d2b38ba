// The step runner alone, on a manual clock with fake faults: when it injects and reverts, what it
// writes to the state file, how each kind of end works, and what abort and failures do.

#include "tests/engine/runner/manual_run.hpp"

#include <boost/asio/co_spawn.hpp>
#include <catch2/catch.hpp>

using namespace faultline;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using strings = std::vector<std::string>;

namespace {

// One experiment around the given steps; the fault phase starts at 5s in these tests.
std::string with_steps(const std::string& steps) {
  return "version: 1\n"
         "name: steps\n"
         "timeline:\n"
         "  baseline: 2s\n"
         "  steps:\n" +
         steps;
}

}  // namespace

TEST_CASE("a step injects at its time and reverts when its duration ends", "[engine]") {
  test::manual_run run(with_steps("    - { name: a, at: 2s, for: 3s, fault: fake, label: first }\n"));
  run.start_steps(5s);
  run.run_until(6s);
  CHECK(run.calls().empty());
  run.run_until(8s);
  CHECK(run.step("a").active());
  run.run_until(20s);
  CHECK(run.calls() == strings{"inject a @7000ms", "revert a @10000ms"});
  const auto& r = run.step("a").record();
  CHECK(r.injected_at == 7.0);
  CHECK(r.reverted_at == 10.0);
  CHECK(r.params == std::map<std::string, std::string>{{"label", "first"}});
  CHECK(r.evidence.summary == "fake evidence");
  CHECK(r.error.empty());
  CHECK_FALSE(run.step("a").active());
  CHECK(run.step("a").ended().is_set());
  CHECK(run.logged("injected fake [a]"));
  CHECK(run.logged("reverted fake [a] (end of step)"));
}

TEST_CASE("the undo record is in the state file while the fault is injected, and gone after the revert", "[engine]") {
  test::manual_run run(with_steps("    - { name: a, at: 0s, for: 1s, fault: fake }\n"));
  run.world.behaviour["a"].undo = {{"qdisc", "root"}};
  std::vector<engine::undo_entry> at_inject;
  run.world.on_inject = [&](const std::string&) { at_inject = run.state.entries(); };
  run.start_steps(0s);
  run.run_until(5s);
  REQUIRE(at_inject.size() == 1);
  CHECK(at_inject[0].step == "a");
  CHECK(at_inject[0].type == "fake");
  CHECK(at_inject[0].run_id == "run-1");
  CHECK(at_inject[0].record.value("qdisc", "") == "root");
  CHECK(run.state.entries().empty());
}

TEST_CASE("a revert that fails is recorded and its undo record stays for 'faultline recover'", "[engine]") {
  test::manual_run run(with_steps("    - { name: a, at: 0s, for: 1s, fault: fake }\n"));
  run.world.behaviour["a"].undo = {{"qdisc", "root"}};
  run.world.behaviour["a"].fail_revert = true;
  run.start_steps(0s);
  run.run_until(5s);
  CHECK(run.step("a").record().error == "revert failed: the fake refused to revert");
  CHECK_FALSE(run.step("a").record().reverted_at);
  CHECK_FALSE(run.step("a").active());
  CHECK(run.state.entries().size() == 1);
  CHECK(run.logged("REVERT FAILED for fake [a]"));
}

TEST_CASE("a failed inject is reverted (it may have applied in part) and stops the run", "[engine]") {
  for (const bool capability : {true, false}) {
    test::manual_run run(with_steps("    - { name: a, at: 1s, for: 5s, fault: fake }\n"));
    run.world.behaviour["a"].fail_inject = true;
    run.world.behaviour["a"].capability = capability;
    run.start_steps(0s);
    run.run_until(10s);
    CHECK(run.calls() == strings{"inject a @1000ms", "revert a @1000ms"});
    const auto why = capability ? std::string("the fake lacks a capability") : std::string("the fake refused to inject");
    CHECK(run.step("a").record().error == "inject failed: " + why);
    CHECK_FALSE(run.step("a").record().injected_at);
    CHECK(run.control.abort().is_set());
    CHECK(run.control.stop().error == "step 'a' (fake): " + why);
    CHECK(run.control.stop().error_exit == (capability ? 2 : 4));
    CHECK_FALSE(run.control.stop().aborted);
  }
}

TEST_CASE("an abort reverts an injected fault at once and a step not yet started never injects", "[engine]") {
  test::manual_run run(with_steps("    - { name: a, at: 0s, for: 60s, fault: fake }\n"
                                  "    - { name: b, at: 3s, for: 1s, fault: fake }\n"));
  run.start_steps(0s);
  run.run_until(2500ms);
  run.control.request_abort("test");
  run.run_until(2500ms);
  CHECK(run.calls() == strings{"inject a @0ms", "revert a @2500ms"});
  CHECK(run.logged("reverted fake [a] (abort)"));
  CHECK(run.step("a").ended().is_set());
  CHECK(run.step("b").ended().is_set());
  CHECK_FALSE(run.step("b").record().injected_at);
}

TEST_CASE("an inject under way is not cut short by an abort: the revert follows it", "[engine]") {
  test::manual_run run(with_steps("    - { name: a, at: 0s, for: 60s, fault: fake }\n"));
  run.world.behaviour["a"].block = true;
  run.start_steps(0s);
  run.run_until(1s);
  run.control.request_abort("test");
  run.run_until(3s);
  CHECK(run.calls() == strings{"inject a @0ms"});
  CHECK(run.step("a").active());
  run.world.release("a");
  run.run_until(3s);
  CHECK(run.calls() == strings{"inject a @0ms", "revert a @3000ms"});
  CHECK(run.step("a").record().injected_at == 3.0);
  CHECK(run.step("a").ended().is_set());
}

TEST_CASE("revert_now reverts an active fault once, however often it is asked", "[engine]") {
  test::manual_run run(with_steps("    - { name: a, at: 0s, for: 60s, fault: fake }\n"));
  run.start_steps(0s);
  run.run_until(1s);
  for (int i = 0; i < 3; ++i)
    boost::asio::co_spawn(run.io, run.step("a").revert_now("shutdown"), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  run.run_until(1s);
  CHECK(run.calls() == strings{"inject a @0ms", "revert a @1000ms"});
  CHECK_FALSE(run.step("a").active());
}

TEST_CASE("until: <step> ends a step when the other step ends", "[engine]") {
  test::manual_run run(with_steps("    - { name: a, at: 0s, until: b, fault: fake }\n"
                                  "    - { name: b, at: 2s, for: 1500ms, fault: fake }\n"));
  run.start_steps(0s);
  run.run_until(10s);
  CHECK(run.calls() == strings{"inject a @0ms", "inject b @2000ms", "revert b @3500ms", "revert a @3500ms"});
}

TEST_CASE("until: manual and until: recovered end when their moment comes, or at their bound", "[engine]") {
  struct ending {
    const char* until;
    std::function<engine::event&(test::manual_run&)> moment;
  };
  const std::vector<ending> endings{
      {"manual", [](test::manual_run& run) -> engine::event& { return run.control.manual_end(); }},
      {"recovered", [](test::manual_run& run) -> engine::event& { return run.recovered; }},
  };
  for (const auto& e : endings) {
    const auto steps = fmt::format("    - {{ name: a, at: 1s, until: {}, for: 10s, fault: fake }}\n", e.until);
    test::manual_run ended(with_steps(steps));
    ended.start_steps(0s);
    ended.run_until(4s);
    e.moment(ended).set();
    ended.run_until(4s);
    CHECK(ended.calls() == strings{"inject a @1000ms", "revert a @4000ms"});

    test::manual_run bounded(with_steps(steps));
    bounded.start_steps(0s);
    bounded.run_until(30s);
    CHECK(bounded.calls() == strings{"inject a @1000ms", "revert a @11000ms"});
  }
}

TEST_CASE("until: manual without a bound needs game-day mode", "[engine]") {
  const auto steps = "    - { name: a, at: 0s, until: manual, fault: fake }\n";
  CHECK_THROWS_WITH(test::manual_run(with_steps(steps)), Contains("run with --interactive"));
  test::manual_run run(with_steps(steps), true);
  run.start_steps(0s);
  run.run_until(1h);
  CHECK(run.step("a").active());
  run.control.manual_end().set();
  run.run_until(1h);
  CHECK(run.calls() == strings{"inject a @0ms", "revert a @3600000ms"});
}

TEST_CASE("an action runs once at its time and an abort cancels it", "[engine]") {
  const auto steps = "    - { name: cmd, at: 1s, action: fake_action }\n";
  SECTION("it completes") {
    test::manual_run run(with_steps(steps));
    run.start_steps(0s);
    run.run_until(5s);
    CHECK(run.calls() == strings{"run cmd @1000ms"});
    const auto& r = run.step("cmd").record();
    CHECK(r.action);
    CHECK(r.injected_at == 1.0);
    CHECK(r.reverted_at == 1.0);
    CHECK(r.error.empty());
    CHECK(run.logged("action fake_action [cmd] finished: fake evidence"));
  }
  SECTION("an abort cancels it") {
    test::manual_run run(with_steps(steps));
    run.world.behaviour["cmd"].block = true;
    run.start_steps(0s);
    run.run_until(4s);
    CHECK_FALSE(run.step("cmd").ended().is_set());
    run.control.request_abort("test");
    run.run_until(4s);
    const auto& r = run.step("cmd").record();
    CHECK(r.error == "cancelled by abort");
    CHECK(r.reverted_at == 4.0);
    CHECK(run.step("cmd").ended().is_set());
  }
}
