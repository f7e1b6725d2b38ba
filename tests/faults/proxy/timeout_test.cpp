// timeout toxic: drops data, closes after the timeout, and closes both ends when removed.
#include "faults/proxy/latency.hpp"
#include "faults/proxy/timeout.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;

TEST_CASE("timeout 0 drops data and never closes", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::timeout_toxic>(0ms), direction::upstream);
  h.start({t});
  h.client.write("lost");
  h.advance(1h);
  CHECK(h.server.pending() == 0);
  CHECK_FALSE(h.server.fin());
  CHECK_FALSE(h.finished);
  CHECK(t.counters->snapshot().bytes_dropped_total == 4);
  SECTION("the other direction still flows") {
    h.server.write("reply");
    h.poll();
    CHECK(h.client.read() == "reply");
  }
}

TEST_CASE("timeout closes the connection after the timeout", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::timeout_toxic>(100ms), direction::upstream);
  h.start({t});
  h.client.write("lost");
  h.advance(99ms);
  CHECK_FALSE(h.finished);
  h.advance(1ms);
  CHECK(h.finished);
  CHECK(h.client.fin());
  CHECK(h.server.fin());
  CHECK(h.server.read().empty());
  CHECK(t.counters->snapshot().connections_closed_total == 1);
}

TEST_CASE("removing a timeout toxic closes both ends (Toxiproxy)", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::timeout_toxic>(0ms), direction::upstream);
  h.start({t});
  h.conn->remove_toxic(t.id, direction::upstream);
  h.poll();
  CHECK(h.client.fin());
  CHECK(h.server.fin());
  CHECK_FALSE(h.client.was_reset());
  CHECK(h.finished);
}

TEST_CASE("removing latency stacked before a timeout does not hang (Toxiproxy)", "[faults][proxy]") {
  harness h;
  auto latency = h.entry(std::make_shared<fp::latency_toxic>(10ms, 0ms), direction::upstream);
  auto timeout = h.entry(std::make_shared<fp::timeout_toxic>(0ms), direction::upstream);
  h.start({latency, timeout});
  for (int i = 0; i < 5; ++i) {
    h.client.write("hello");
    h.advance(200ms);
  }
  h.conn->remove_toxic(latency.id, direction::upstream);
  h.poll();
  CHECK(h.conn->link_of(direction::upstream).stage_count() == 1);
  CHECK_FALSE(h.finished);
  CHECK(timeout.counters->snapshot().bytes_dropped_total == 25);
}
