#include "probes/command_probe.hpp"
#include "tests/probes/probe_test_params.hpp"
#include "tests/support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;

namespace {
sample run(std::initializer_list<std::pair<std::string, param_value>> v, std::chrono::nanoseconds timeout = 5s) {
  boost::asio::io_context io;
  auto p = test::make_probe("command", test::probe_params("command", v, timeout), io.get_executor());
  return test::run_awaitable(io, p->check(probes::clock::now()));
}
}  // namespace

TEST_CASE("command probe: exit code and stdout value", "[probes]") {
  CHECK(run({{"run", std::string("true")}}).result == outcome::ok);
  CHECK(run({{"run", std::string("exit 3")}}).result == outcome::unexpected_value);
  CHECK(run({{"run", std::string("exit 3")}, {"expect.exit_code", std::int64_t(3)}}).result == outcome::ok);
  auto s = run({{"run", std::string("echo 'lag: 42.5 s'; echo 7")}, {"value", true}});
  CHECK(s.result == outcome::ok);
  CHECK(s.value == 42.5);
  s = run({{"run", std::string("echo none")}, {"value", true}});
  CHECK(s.result == outcome::unexpected_value);
  CHECK(run({{"run", std::string("kill -9 $$")}}).result == outcome::protocol_error);
}

TEST_CASE("command probe: a timeout kills the whole process group", "[probes]") {
  const auto pid_file = std::filesystem::temp_directory_path() / ("faultline-cmd-" + std::to_string(::getpid()));
  const auto before = probes::clock::now();
  const auto s = run({{"run", "sleep 30 & echo $! > " + pid_file.string() + "; wait"}}, 300ms);
  CHECK(s.result == outcome::timeout);
  CHECK(s.latency >= 300ms);
  CHECK(probes::clock::now() - before < 5s);
  std::ifstream in(pid_file);
  int child = 0;
  in >> child;
  std::filesystem::remove(pid_file);
  REQUIRE(child > 0);
  // The background sleep was in the group: it is gone (or a zombie about to be reaped by init).
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string pid, comm, state;
    gone = !(stat >> pid >> comm >> state) || state == "Z";
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  CHECK(gone);
}

TEST_CASE("command probe: a grandchild holding stdout open does not keep the check", "[probes]") {
  const auto before = probes::clock::now();
  const auto s = run({{"run", std::string("sleep 5 & echo 1")}, {"value", true}}, 3s);
  CHECK(s.result == outcome::ok);
  CHECK(s.value == 1.0);
  CHECK(probes::clock::now() - before < 2500ms);
}

TEST_CASE("first_number finds the first number in text", "[probes]") {
  CHECK(first_number("up 42 s") == 42.0);
  CHECK(first_number("-1.5e3 rest") == -1500.0);
  CHECK(first_number("v.5") == 0.5);
  CHECK(first_number("a-b 3") == 3.0);
  CHECK_FALSE(first_number("none here"));
}
