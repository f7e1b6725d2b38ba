#include "tests/faults/storm/hold_server.hpp"
#include "tests/support/command.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

extern char** environ;

using faultline::test::hold_server;
using faultline::test::run_command;

namespace {

std::string storm(const std::string& args) { return faultline::test::faultline_binary() + " storm " + args; }

std::uint16_t closed_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace

TEST_CASE("faultline storm: JSON summary of a hold", "[faults][storm]") {
  hold_server server;
  auto r = run_command(storm(server.address() + " --connections 150 --hold 0s --json --quiet"));
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.output);
  CHECK(j["peak_held"] == 150);
  CHECK(j["outcomes"]["established"] == 150);
  CHECK(j["closed_by_storm"] == 150);
  CHECK(j["target"] == server.address());
  CHECK(j["report"]["connect_latency"]["count"] == 150);
  CHECK(j["interrupted"] == false);
  CHECK(server.snapshot().accepted == 150);
}

TEST_CASE("faultline storm: refused connections, live line and summary", "[faults][storm]") {
  const auto target = "127.0.0.1:" + std::to_string(closed_port());
  auto r = run_command(storm(target + " --connections 40 --rate 40 --hold 0s"));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("storm " + target));  // the live line, once a second
  CHECK_THAT(r.output, Catch::Contains("connection storm against " + target + " (tcp handshake, hold), 1 worker"));
  CHECK_THAT(r.output, Catch::Contains("  refused            40"));
}

TEST_CASE("faultline storm: SIGINT closes everything, prints the summary and exits 3", "[faults][storm]") {
  hold_server server;
  const std::string binary = faultline::test::faultline_binary();
  const std::string output = "/tmp/faultline-storm-sigint-" + std::to_string(::getpid()) + ".txt";
  std::vector<std::string> args{binary, "storm", server.address(), "--connections", "50", "--hold", "60s", "--quiet"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, binary.c_str(), &files, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&files);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (server.snapshot().held < 50 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(server.snapshot().held == 50);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
  std::ifstream in(output);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(output.c_str());
  CHECK_THAT(text, Catch::Contains("  established        50"));
  CHECK_THAT(text, Catch::Contains("  closed by storm    50"));
}

TEST_CASE("faultline storm: bad input is exit 2 with the option and the fix", "[faults][storm]") {
  struct row {
    std::string args;
    std::string message;
  };
  auto t = GENERATE(row{"localhost", "faultline storm: 'localhost' is not host:port; write e.g. 127.0.0.1:8080"},
                    row{"127.0.0.1:9 --rate 5x", "faultline storm: --rate: '5x' is not a rate: it has no time unit; write e.g. 5/s"},
                    row{"127.0.0.1:9 --connections 0", "faultline storm: --connections: connections must be at least 1"},
                    row{"127.0.0.1:9 --handshake ftp",
                        "faultline storm: --handshake: 'ftp' is not a valid handshake (choose one of: tcp, http, "
                        "websocket, postgres, redis)"},
                    row{"127.0.0.1:9 --duration 5s", "faultline storm: --duration: only with --churn; a hold lasts --hold"},
                    row{"127.0.0.1:9 --source 127.0.0.1-127.0.0.0",
                        "faultline storm: --source: range '127.0.0.1-127.0.0.0' ends before it starts"},
                    row{"127.0.0.1:9 --path ws", "faultline storm: --path: path 'ws' must start with '/', e.g. /ws"});
  auto r = run_command(storm(t.args));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains(t.message));
}
