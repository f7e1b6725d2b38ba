#include "faults/actions/command_action.hpp"
#include "tests/support/run_awaitable.hpp"

#include <catch2/catch.hpp>

using namespace faultline;
using namespace std::chrono_literals;

namespace {

struct ran {
  faults::evidence evidence;
  std::string error;  // what inject() threw, if it did
};

ran run_command_action(const std::string& command, std::chrono::nanoseconds timeout = 5s, int expect_exit_code = 0) {
  const auto types = actions::action_types();
  REQUIRE(types.size() == 1);
  const auto& type = types.front();
  CHECK(type.action);
  params p;
  p.set("run", command);
  p.set("timeout", timeout);
  p.set("expect_exit_code", std::int64_t{expect_exit_code});
  boost::asio::io_context io;
  faults::fault_context ctx;
  ctx.executor = io.get_executor();
  auto action = type.create(p, ctx);
  ran out;
  try {
    test::run_awaitable(io, [&]() -> boost::asio::awaitable<int> {
      co_await action->inject();
      co_return 0;
    }());
  } catch (const faults::fault_error& e) {
    out.error = e.what();
  }
  out.evidence = action->collect_evidence();
  return out;
}

}  // namespace

TEST_CASE("command action: success records the exit code and both output streams", "[faults]") {
  auto r = run_command_action("echo to-stdout; echo to-stderr >&2");
  CHECK(r.error.empty());
  CHECK(r.evidence.observed);
  CHECK(r.evidence.details["exit_code"] == 0);
  CHECK(r.evidence.details["ending"] == "exited");
  const auto output = r.evidence.details["output"].get<std::string>();
  CHECK_THAT(output, Catch::Contains("to-stdout") && Catch::Contains("to-stderr"));
}

TEST_CASE("command action: an unexpected exit code fails the step and says so", "[faults]") {
  auto r = run_command_action("echo failing over; exit 3");
  CHECK_THAT(r.error, Catch::Contains("exited with 3 (expected 0)"));
  CHECK_FALSE(r.evidence.observed);
  CHECK(r.evidence.details["exit_code"] == 3);
  CHECK_THAT(r.evidence.details["output"].get<std::string>(), Catch::Contains("failing over"));

  auto expected = run_command_action("exit 3", 5s, 3);
  CHECK(expected.error.empty());
  CHECK(expected.evidence.observed);
}

TEST_CASE("command action: a command that outlives its timeout is killed", "[faults]") {
  const auto started = std::chrono::steady_clock::now();
  auto r = run_command_action("sleep 30", 300ms);
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  CHECK_THAT(r.error, Catch::Contains("did not finish within 300 ms"));
  CHECK(r.evidence.details["ending"] == "timed_out");
}

TEST_CASE("command action: long output keeps its end", "[faults]") {
  auto r = run_command_action("seq 1 20000; echo the-last-line");
  const auto output = r.evidence.details["output"].get<std::string>();
  CHECK(output.size() < 9000);
  CHECK_THAT(output, Catch::StartsWith("[...]") && Catch::Contains("the-last-line"));
}
