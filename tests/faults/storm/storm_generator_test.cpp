#include "faults/storm/storm_generator.hpp"

#include "tests/faults/storm/hold_server.hpp"
#include "tests/faults/storm/run_async.hpp"
#include "tests/support/eventually.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

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

storm_config loopback(std::uint16_t port) {
  storm_config c;
  c.host = "127.0.0.1";
  c.address = "127.0.0.1";
  c.port = port;
  c.timeout = 10s;  // generous: the machine may be busy
  return c;
}

// A port nobody listens on.
std::uint16_t closed_port() {
  io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace

TEST_CASE("a hold storm holds every connection until stopped", "[faults][storm]") {
  hold_server server;
  auto c = loopback(server.port());
  c.connections = 300;
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    REQUIRE(co_await eventually_async([&] { return g->counts().held == 300 && server.snapshot().held == 300; }));
    CHECK(g->counts()[o::established] == 300);
    CHECK(g->counts().peak_held == 300);
    CHECK(g->counts().opened == 300);
    CHECK_FALSE(g->finished());  // no hold duration: it waits for stop()
    g->stop();
    co_await g->wait_finished();
    auto r = g->report();
    CHECK(r.counts.held == 0);
    CHECK(r.counts.closed_by_storm == 300);
    CHECK(r.counts[o::established] == 300);
    CHECK(r.counts.finished() == 300);
    CHECK(r.connect_latency.count() == 300);
    CHECK(r.handshake_latency.count() == 0);  // tcp: no handshake beyond connect
    CHECK(r.ramp > 0ns);
    REQUIRE(co_await eventually_async([&] { return server.snapshot().held == 0; }));
    CHECK(server.snapshot().closed_by_peer == 300);
  });
}

TEST_CASE("a hold with a duration ends by itself", "[faults][storm]") {
  hold_server server;
  auto c = loopback(server.port());
  c.connections = 50;
  c.hold = 300ms;
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    co_await g->wait_finished();
    auto r = g->report();
    CHECK(r.counts[o::established] == 50);
    CHECK(r.counts.closed_by_storm == 50);
    CHECK(r.elapsed >= 300ms);
    CHECK(r.elapsed - r.ramp >= 300ms);
  });
}

TEST_CASE("connections to a closed port are refused", "[faults][storm]") {
  auto c = loopback(closed_port());
  c.connections = 40;
  c.hold = 0ns;
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    co_await g->wait_finished();
    CHECK(g->counts()[o::refused] == 40);
    CHECK(g->counts().finished() == 40);
    CHECK(g->counts().peak_held == 0);
  });
}

TEST_CASE("a server that never answers the handshake times out", "[faults][storm]") {
  hold_server server;  // accepts and says nothing
  auto c = loopback(server.port());
  c.connections = 20;
  c.handshake = handshake_kind::http;
  c.timeout = 300ms;
  c.hold = 0ns;
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    co_await g->wait_finished();
    auto r = g->report();
    CHECK(r.counts[o::timed_out] == 20);
    CHECK(r.elapsed >= 300ms);
    CHECK(r.elapsed < 10s);
    CHECK(server.snapshot().accepted == 20);
  });
}

TEST_CASE("HTTP answers are classed", "[faults][storm]") {
  struct row {
    std::string reply;
    connection_outcome expected;
  };
  auto r = GENERATE(row{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", o::established},
                    row{"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", o::refused},
                    row{"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", o::handshake_failed},
                    row{"SSH-2.0-OpenSSH_9.2\r\n", o::handshake_failed});
  hold_server::options so;
  so.reply = r.reply;
  hold_server server(so);
  auto c = loopback(server.port());
  c.connections = 10;
  c.handshake = handshake_kind::http;
  c.hold = 0ns;
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    co_await g->wait_finished();
    INFO(r.reply);
    CHECK(g->counts()[r.expected] == 10);
    CHECK(g->report().handshake_latency.count() == (r.expected == o::established ? 10u : 0u));
  });
}

TEST_CASE("held connections the server closes or resets are counted as such", "[faults][storm]") {
  SECTION("closed: FIN after a line") {
    hold_server::options so;
    so.reply = "bye\n";
    so.close_after_reply = true;
    hold_server server(so);
    auto c = loopback(server.port());
    c.connections = 25;
    run_async([&](io_context& io) -> awaitable<void> {
      auto g = storm_generator::create(io, c);
      g->start();
      co_await g->wait_finished();  // everything ended: nothing is held any more
      auto r = g->report();
      CHECK(r.counts[o::closed_early] == 25);
      CHECK(r.counts[o::established] == 0);
      CHECK(r.counts.opened == 25);
      CHECK(r.counts.dropped_while_held == 25);
      CHECK(r.counts.peak_held >= 1);
    });
  }
  SECTION("reset: over the server's limit") {
    hold_server::options so;
    so.limit = 10;
    so.policy = hold_server::over_limit::reset;
    hold_server server(so);
    auto c = loopback(server.port());
    c.connections = 30;
    run_async([&](io_context& io) -> awaitable<void> {
      auto g = storm_generator::create(io, c);
      g->start();
      REQUIRE(co_await eventually_async([&] { return g->counts()[o::reset] == 20; }));
      CHECK(g->counts()[o::established] == 10);
      CHECK(g->counts().held == 10);
      CHECK(server.snapshot().refused == 20);
      g->stop();
      co_await g->wait_finished();
    });
  }
}

TEST_CASE("a rate spreads the attempts over time", "[faults][storm]") {
  hold_server server;
  auto c = loopback(server.port());
  c.connections = 100;
  c.rate = 200;  // 0.5 s
  c.hold = 0ns;
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    co_await g->wait_finished();
    auto r = g->report();
    CHECK(r.counts[o::established] == 100);
    CHECK(r.ramp >= 450ms);
    CHECK(r.ramp < 10s);
  });
}

TEST_CASE("churn opens and closes at the rate, never over the cap", "[faults][storm]") {
  hold_server server;
  auto c = loopback(server.port());
  c.connections = 5;  // open at once, at most
  c.churn = true;
  c.rate = 200;
  c.hold = 20ms;  // each connection's lifetime
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    co_await faultline::test::sleep_for(1000ms);
    g->stop();
    co_await g->wait_finished();
    auto r = g->report();
    INFO("attempts " << r.counts.attempts);
    CHECK(r.counts.attempts >= 40);   // about 5 per 20 ms lifetime = 200/s, minus a busy machine
    CHECK(r.counts.attempts <= 230);  // never above the rate
    CHECK(r.counts.peak_held <= 5);
    CHECK(r.counts.opened == r.counts[o::established]);
    CHECK(r.counts.closed_by_storm == r.counts.opened);
    CHECK(r.ramp == 0ns);
    // Attempts cut short by stop() may have been completed by the kernel all the same.
    REQUIRE(co_await eventually_async([&] { return server.snapshot().accepted >= r.counts.opened; }));
    CHECK(server.snapshot().accepted <= r.counts.opened + r.counts.cancelled);
  });
}

TEST_CASE("source addresses are used in turn", "[faults][storm]") {
  hold_server server;
  auto c = loopback(server.port());
  c.connections = 30;
  c.hold = 0ns;
  c.source_addresses = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    co_await g->wait_finished();
    CHECK(g->counts()[o::established] == 30);
    REQUIRE(co_await eventually_async([&] { return server.snapshot().accepted == 30; }));
    CHECK(server.peers() == std::set<std::string>{"127.0.0.2", "127.0.0.3", "127.0.0.4"});
  });
}

TEST_CASE("stop during attempts cancels them without a class", "[faults][storm]") {
  hold_server server;  // says nothing: every http handshake waits
  auto c = loopback(server.port());
  c.connections = 20;
  c.handshake = handshake_kind::http;
  c.timeout = 60s;
  run_async([&](io_context& io) -> awaitable<void> {
    auto g = storm_generator::create(io, c);
    g->start();
    REQUIRE(co_await eventually_async([&] { return server.snapshot().held == 20; }));
    g->stop();
    co_await g->wait_finished();
    CHECK(g->counts().cancelled == 20);
    CHECK(g->counts().finished() == 0);
  });
}
