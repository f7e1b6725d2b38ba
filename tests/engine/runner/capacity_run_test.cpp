// `faultline capacity` end to end against servers whose capacity is known: one that serves at most
// N requests per second (a token bucket of one, the rest queued), and one whose capacity is its
// concurrency over its service time, the service being a call to a dependency through a faultline
// proxy; a latency fault on that proxy lengthens the service time, and the capacity under fault
// must drop as queueing theory says (C / S healthy, C / (S + L) under fault).

#include "tests/support/command.hpp"
#include "tests/support/tcp_test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-capacity-test-" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

using serve = std::function<asio::awaitable<void>()>;  // returns when the answer may be sent

// An HTTP server's session that answers every request 200 "ok" once `serve` lets it.
faultline::test::tcp_test_server::session answer_ok_after(serve s) {
  return [s = std::move(s)](tcp::socket socket) -> asio::awaitable<void> {
    asio::streambuf in;
    static constexpr std::string_view ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(socket, in, "\r\n\r\n", use_tuple);
      if (ec) co_return;
      in.consume(n);  // the load sends GET requests without a body
      co_await s();
      auto [wec, w] = co_await asio::async_write(socket, asio::buffer(ok), use_tuple);
      if (wec) co_return;
    }
  };
}

// A dependency's session: each line is answered "y" after `delay`.
faultline::test::tcp_test_server::session reply_after(std::chrono::milliseconds delay) {
  return [delay](tcp::socket socket) -> asio::awaitable<void> {
    asio::streambuf in;
    asio::steady_timer timer(socket.get_executor());
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(socket, in, "\n", use_tuple);
      if (ec) co_return;
      in.consume(n);
      timer.expires_after(delay);
      co_await timer.async_wait(use_tuple);
      auto [wec, w] = co_await asio::async_write(socket, asio::buffer("y\n", 2), use_tuple);
      if (wec) co_return;
    }
  };
}

nlohmann::json only_journal(const std::filesystem::path& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().string().ends_with(".journal.json")) return nlohmann::json::parse(std::ifstream(e.path()));
  FAIL("no journal in " << dir);
  return {};
}

// The settings that keep a search short: quarter-second windows, 1.5 s trials judged after 0.5 s.
const std::string quick_search =
    "--trial 1500ms --warmup 500ms --cooldown 1s --window 250ms --precision 8% --time-limit 60s --timeout 500ms";
// Coarser and quicker, for the test that runs two searches.
const std::string coarse_search =
    "--trial 1500ms --warmup 500ms --cooldown 500ms --window 250ms --precision 10% --time-limit 60s --timeout 500ms";

}  // namespace

TEST_CASE("capacity: a server that serves at most N per second is found within 10 % of N", "[engine][integration]") {
  constexpr double n = 400;
  // One token every 1/N: each request takes the next free slot and waits for it (FIFO).
  auto next_free = std::make_shared<steady::time_point>(steady::now());
  faultline::test::tcp_test_server server(answer_ok_after([&]() -> asio::awaitable<void> {
    const auto now = steady::now();
    const auto slot = std::max(now, *next_free);
    *next_free = slot + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(1 / n));
    asio::steady_timer t(co_await asio::this_coro::executor, slot);
    co_await t.async_wait(use_tuple);
  }));
  const auto dir = scratch("bucket");
  const auto r = faultline::test::run_command(
      faultline::test::faultline_binary() + " capacity http://127.0.0.1:" + std::to_string(server.port()) +
      "/ --require 'load.p99 < 100ms' --from 250/s " + quick_search + " --report-dir " + dir.string() +
      " --state-file " + (dir / "state.json").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto j = only_journal(dir);
  const auto& search = j["analysis"]["capacity"].at(0);
  CHECK(search["condition"] == "healthy");
  const double found = search["capacity"].get<double>();
  CHECK(found >= 0.9 * n);
  CHECK(found <= 1.1 * n);
  CHECK(search["trials"].size() >= 4);
  CHECK(r.output.find("capacity ") != std::string::npos);
}

TEST_CASE("capacity under a latency fault drops as concurrency over service time says", "[engine][integration]") {
  constexpr int concurrency = 4;
  constexpr auto service = 10ms;
  constexpr auto added = 10ms;
  faultline::test::tcp_test_server dependency(reply_after(service));
  const auto dir = scratch("under-fault");
  const auto proxy_port = [] {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
  }();

  // The server: `concurrency` workers, each with its own connection to the dependency through the
  // proxy; requests wait in one FIFO queue for a free worker.
  struct worker_pool {
    std::deque<std::shared_ptr<asio::steady_timer>> waiting;
    std::vector<std::shared_ptr<tcp::socket>> idle;
  };
  auto pool = std::make_shared<worker_pool>();
  faultline::test::tcp_test_server server(answer_ok_after([&]() -> asio::awaitable<void> {
    const auto io = co_await asio::this_coro::executor;
    while (pool->idle.empty()) {
      auto wake = std::make_shared<asio::steady_timer>(io, steady::time_point::max());
      pool->waiting.push_back(wake);
      co_await wake->async_wait(use_tuple);
    }
    auto connection = pool->idle.back();
    pool->idle.pop_back();
    if (!connection->is_open()) {
      connection = std::make_shared<tcp::socket>(io);
      co_await connection->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy_port), use_tuple);
    }
    asio::streambuf in;
    auto [wec, w] = co_await asio::async_write(*connection, asio::buffer("x\n", 2), use_tuple);
    if (!wec) {
      auto [rec, n] = co_await asio::async_read_until(*connection, in, "\n", use_tuple);
      if (rec) connection->close();
    } else {
      connection->close();
    }
    pool->idle.push_back(connection);
    if (!pool->waiting.empty()) {
      pool->waiting.front()->cancel();
      pool->waiting.pop_front();
    }
  }));
  for (int i = 0; i < concurrency; ++i) pool->idle.push_back(std::make_shared<tcp::socket>(server.context()));
  // The pool's sockets and timers go before the server's io_context does, after its thread has
  // stopped, however the test ends.
  struct pool_cleanup {
    faultline::test::tcp_test_server& server;
    worker_pool& pool;
    ~pool_cleanup() {
      server.stop();
      pool.waiting.clear();
      pool.idle.clear();
    }
  } cleanup{server, *pool};

  std::ofstream(dir / "capacity.yaml") << "version: 1\nname: capacity-under-fault\n"
                                       << "proxies:\n  dependency: { listen: 127.0.0.1:" << proxy_port
                                       << ", upstream: 127.0.0.1:" << dependency.port() << " }\n"
                                       << "load:\n  http: { url: http://127.0.0.1:" << server.port() << "/, timeout: 500ms }\n"
                                       << "  capacity: { from: 100/s, require: [ \"load.p99 < 100ms\" ] }\n"
                                       << "timeline:\n  steps:\n    - { at: 0s, for: 1s, fault: latency, target: dependency, "
                                          "latency: " << added.count() << "ms }\n"
                                       << "expect:\n  capacity: { at_least: 300/s, under_fault: { at_least: 150/s } }\n";
  // Coarser and quicker than the first test: two searches.
  const auto r = faultline::test::run_command(faultline::test::faultline_binary() + " capacity " + (dir / "capacity.yaml").string() +
                                              " " + coarse_search + " --report-dir " + dir.string() + " --state-file " +
                                              (dir / "state.json").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto j = only_journal(dir);
  const auto& searches = j["analysis"]["capacity"];
  REQUIRE(searches.size() == 2);
  const double healthy = searches[0]["capacity"].get<double>();
  const double faulted = searches[1]["capacity"].get<double>();
  const double c_over_s = concurrency / std::chrono::duration<double>(service).count();            // 400/s
  const double c_over_sl = concurrency / std::chrono::duration<double>(service + added).count();   // 200/s
  CHECK(healthy >= 0.85 * c_over_s);
  CHECK(healthy <= 1.1 * c_over_s);
  CHECK(faulted >= 0.85 * c_over_sl);
  CHECK(faulted <= 1.1 * c_over_sl);
  CHECK(faulted / healthy == Approx(0.5).margin(0.1));
  CHECK(searches[1]["faults"].get<std::string>().find("latency on dependency") != std::string::npos);
  // The fault was applied and reverted, with evidence.
  REQUIRE(j["faults"].size() == 1);
  CHECK(j["faults"][0]["evidence"]["observed"] == true);
  CHECK(j["faults"][0].contains("reverted_at"));
  CHECK(r.output.find("holds ") != std::string::npos);
}
