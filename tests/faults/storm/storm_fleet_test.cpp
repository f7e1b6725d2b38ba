#include "faults/storm/storm_fleet.hpp"

#include "faults/fault.hpp"
#include "tests/faults/storm/hold_server.hpp"
#include "tests/faults/storm/run_async.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/real_servers.hpp"
#include "tests/support/websocket_test_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

extern char** environ;

using namespace faultline;
using namespace faultline::storm;
using faultline::test::eventually_async;
using faultline::test::hold_server;
using faultline::test::run_async;
using boost::asio::awaitable;
using boost::asio::io_context;
using namespace std::chrono_literals;
using o = connection_outcome;

namespace {

storm_config loopback(std::uint16_t port, std::int64_t connections) {
  storm_config c;
  c.host = "127.0.0.1";
  c.port = port;
  c.connections = connections;
  c.timeout = 10s;
  return c;
}

storm_fleet::options worker_binary() {
  storm_fleet::options opts;
  opts.program = FAULTLINE_BINARY;
  return opts;
}

std::int64_t redis_info(redisContext* c, const std::string& section, const std::string& field) {
  auto* reply = static_cast<redisReply*>(redisCommand(c, "INFO %s", section.c_str()));
  REQUIRE(reply);
  std::istringstream in(std::string(reply->str, reply->len));
  freeReplyObject(reply);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  FAIL("no " << field << " in INFO " << section);
  return -1;
}

std::int64_t postgres_count(PGconn* c, const char* sql) {
  PGresult* r = PQexec(c, sql);
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  auto n = std::stoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

}  // namespace

TEST_CASE("against a known backlog and limit, established and timed out match the server's counts", "[faults][storm]") {
  hold_server::options so;
  so.backlog = 50;
  so.limit = 300;  // then it stops accepting: 51 more wait in the accept queue, the rest see SYNs dropped
  hold_server server(so);
  auto c = loopback(server.port(), 600);
  c.timeout = 3s;
  // Paced, from one process: a burst of SYNs would overflow the listener's SYN queue too, and
  // connections completed by SYN cookies while the accept queue is full look established to the
  // client but exist nowhere on the server, which no count can match.
  c.rate = 500;
  c.workers = 1;
  run_async([&](io_context& io) -> awaitable<void> {
    auto fleet = storm_fleet::spawn(io.get_executor(), c, worker_binary());
    co_await fleet->start();
    REQUIRE(co_await eventually_async([&] { return fleet->report().counts.finished() == 600; }, 60s));
    const auto r = fleet->report();
    const auto s = server.snapshot();
    const auto queued = server.accept_queue();
    CHECK(s.accepted == 300);
    CHECK(queued == 51);
    CHECK(r.counts[o::established] == s.accepted + queued);
    CHECK(r.counts[o::timed_out] == 600 - s.accepted - queued);
    CHECK(r.counts[o::refused] == 0);
    CHECK(r.counts.peak_held == s.accepted + queued);
    co_await fleet->stop();
    CHECK(fleet->report().counts.closed_by_storm == s.accepted + queued);
    CHECK(fleet->problems().empty());
  });
}

TEST_CASE("the server's own refusals match: established = held, reset = refused", "[faults][storm]") {
  hold_server::options so;
  so.limit = 200;
  so.policy = hold_server::over_limit::reset;
  hold_server server(so);
  auto c = loopback(server.port(), 500);
  c.workers = 2;
  run_async([&](io_context& io) -> awaitable<void> {
    auto fleet = storm_fleet::spawn(io.get_executor(), c, worker_binary());
    CHECK(fleet->workers().size() == 2);
    co_await fleet->start();
    REQUIRE(co_await eventually_async([&] {
      auto r = fleet->report();
      return r.counts.finished() == 500 && r.counts[o::reset] == server.snapshot().refused &&
             server.snapshot().accepted == 500;
    }, 60s));
    const auto r = fleet->report();
    CHECK(r.counts[o::established] == server.snapshot().held);
    CHECK(r.counts[o::established] == 200);
    CHECK(r.counts[o::reset] == 300);
    // A reset can beat the client's own view of its connect: then it never counted as opened.
    CHECK(r.counts.dropped_while_held == r.counts.opened - 200);
    co_await fleet->stop();
    const auto end = fleet->report();
    CHECK(end.counts.closed_by_storm == 200);
    CHECK(end.workers == 2);
    CHECK(end.connect_latency.count() == static_cast<std::uint64_t>(end.counts.opened));
    CHECK(end.peak_rss_bytes > 0);
    REQUIRE(co_await eventually_async([&] { return server.snapshot().held == 0; }));
  });
}

TEST_CASE("Redis with maxclients: established and refused match INFO", "[faults][storm]") {
  test::redis_server redis;
  redisContext* admin = redisConnect("127.0.0.1", redis.port());
  REQUIRE(admin);
  REQUIRE(admin->err == 0);
  freeReplyObject(redisCommand(admin, "CONFIG SET maxclients 60"));
  const auto rejected_before = redis_info(admin, "stats", "rejected_connections");
  auto c = loopback(redis.port(), 100);
  c.handshake = handshake_kind::redis;
  run_async([&](io_context& io) -> awaitable<void> {
    auto fleet = storm_fleet::spawn(io.get_executor(), c, worker_binary());
    co_await fleet->start();
    REQUIRE(co_await eventually_async([&] { return fleet->report().counts.finished() == 100; }, 60s));
    const auto r = fleet->report();
    const auto connected = redis_info(admin, "clients", "connected_clients") - 1;  // less this admin connection
    const auto rejected = redis_info(admin, "stats", "rejected_connections") - rejected_before;
    CHECK(r.counts[o::established] == connected);
    CHECK(r.counts[o::refused] == rejected);
    CHECK(r.counts[o::established] == 59);
    CHECK(r.counts[o::refused] == 41);
    CHECK(r.handshake_latency.count() == 59);
    co_await fleet->stop();
  });
  redisFree(admin);
}

TEST_CASE("PostgreSQL at max_connections: refusals are SQLSTATE 53300 and the held count matches", "[faults][storm]") {
  test::postgres_server pg;
  PGconn* admin = PQconnectdb(pg.conninfo().c_str());  // holds its slot before the storm takes the rest
  REQUIRE(PQstatus(admin) == CONNECTION_OK);
  const auto max_connections = postgres_count(admin, "SELECT current_setting('max_connections')::int");
  auto c = loopback(pg.port(), max_connections + 30);
  c.handshake = handshake_kind::postgres;
  c.timeout = 60s;
  c.max_pending = 50;
  run_async([&](io_context& io) -> awaitable<void> {
    auto fleet = storm_fleet::spawn(io.get_executor(), c, worker_binary());
    co_await fleet->start();
    REQUIRE(co_await eventually_async([&] { return fleet->report().counts.finished() == c.connections; }, 90s));
    const auto r = fleet->report();
    const auto held = postgres_count(admin, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'faultline-storm'");
    CHECK(r.counts[o::established] == held);
    CHECK(r.counts[o::established] + r.counts[o::refused] == c.connections);
    CHECK(r.counts[o::refused] >= 30);
    co_await fleet->stop();
    CHECK(co_await eventually_async([&] {
      return postgres_count(admin, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'faultline-storm'") == 0;
    }));
  });
  PQfinish(admin);
}

TEST_CASE("a WebSocket storm of 10k: every upgrade succeeds and is held for the duration", "[faults][storm]") {
  test::websocket_test_server server;
  auto c = loopback(server.port(), 10000);
  c.handshake = handshake_kind::websocket;
  c.path = "/ws";
  c.timeout = 60s;
  c.hold = 2s;
  run_async([&](io_context& io) -> awaitable<void> {
    auto fleet = storm_fleet::spawn(io.get_executor(), c, worker_binary());
    co_await fleet->start();
    REQUIRE(co_await eventually_async([&] { return server.snapshot().held == 10000; }, 120s));
    co_await faultline::test::sleep_for(1000ms);
    CHECK(server.snapshot().held == 10000);  // still all there a second later
    co_await fleet->wait_finished();        // the 2 s hold ends the storm by itself
    co_await fleet->stop();
    const auto r = fleet->report();
    CHECK(r.counts[o::established] == 10000);
    CHECK(r.counts.peak_held == 10000);
    CHECK(r.counts.dropped_while_held == 0);
    CHECK(r.counts.closed_by_storm == 10000);
    CHECK(r.handshake_latency.count() == 10000);
    CHECK(server.snapshot().upgraded == 10000);
    CHECK(server.snapshot().peak_held == 10000);
    CHECK(co_await eventually_async([&] { return server.snapshot().held == 0; }));
    CHECK(fleet->problems().empty());
  });
}

TEST_CASE("workers that cannot run are reported before anything starts", "[faults][storm]") {
  hold_server server;
  auto c = loopback(server.port(), 10);
  SECTION("a program that is not faultline") {
    storm_fleet::options opts;
    opts.program = "/bin/false";
    run_async([&](io_context& io) -> awaitable<void> {
      auto fleet = storm_fleet::spawn(io.get_executor(), c, opts);
      CHECK_THROWS_WITH(fleet->preflight(), Catch::Contains("(/bin/false storm-worker) exited with code 1"));
      co_return;
    });
  }
  SECTION("a program that does not exist") {
    storm_fleet::options opts;
    opts.program = "/nonexistent/faultline";
    run_async([&](io_context& io) -> awaitable<void> {
      auto fleet = storm_fleet::spawn(io.get_executor(), c, opts);
      CHECK_THROWS_AS(fleet->preflight(), faults::capability_error);
      co_return;
    });
  }
  CHECK(server.snapshot().accepted == 0);
}

TEST_CASE("more connections than the workers can hold is an error naming the fix", "[faults][storm]") {
  auto c = loopback(9, 100000);
  c.workers = 2;
  run_async([&](io_context& io) -> awaitable<void> {
    CHECK_THROWS_WITH(storm_fleet::spawn(io.get_executor(), c, worker_binary()),
                      Catch::Contains("100000 connections over 2 workers") && Catch::Contains("set workers to at least 6"));
    co_return;
  });
}

TEST_CASE("work is split evenly over workers", "[faults][storm]") {
  storm_config c;
  c.connections = 10;
  c.rate = 100;
  c.max_pending = 5;
  c.source_addresses = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};
  auto a = storm_fleet::share_of(c, 0, 3);
  auto b = storm_fleet::share_of(c, 2, 3);
  CHECK(a.connections == 4);
  CHECK(b.connections == 3);
  CHECK(a.rate == Approx(40));
  CHECK(b.rate == Approx(30));
  CHECK(a.max_pending == 2);
  CHECK(b.source_addresses.front() == "127.0.0.3");
  CHECK(storm_fleet::automatic_workers(c, 20000) == 1);
  c.connections = 50000;
  CHECK(storm_fleet::automatic_workers(c, 20000) == 3);
  c.connections = 19936;
  CHECK(storm_fleet::automatic_workers(c, 20000) == 1);
  c.connections = 19937;
  CHECK(storm_fleet::automatic_workers(c, 20000) == 2);
}

TEST_CASE("workers die with the storm's process, and so do their connections", "[faults][storm]") {
  hold_server server;
  const std::string binary = FAULTLINE_BINARY;
  const std::string target = server.address();
  std::vector<std::string> args{binary, "storm", target, "--connections", "100", "--hold", "60s", "--quiet"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, binary.c_str(), nullptr, nullptr, argv.data(), environ) == 0);
  run_async([&](io_context&) -> awaitable<void> {
    REQUIRE(co_await eventually_async([&] { return server.snapshot().held == 100; }));
    std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<process_id> workers;
    for (std::int64_t child; children >> child;) workers.push_back({child, process_start_time(child).value_or(0)});
    REQUIRE(workers.size() == 1);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(co_await eventually_async([&] {
      return std::none_of(workers.begin(), workers.end(), [](const auto& w) { return process_alive(w); });
    }, 10s));
    CHECK(co_await eventually_async([&] { return server.snapshot().held == 0; }, 10s));
  });
}
