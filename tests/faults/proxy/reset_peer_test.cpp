// reset_peer toxic: RST on both sides once data arrives, after the timeout.
#include "faults/proxy/reset_peer.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;

TEST_CASE("reset_peer without timeout resets both sides when data arrives", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::reset_peer_toxic>(0ms), direction::upstream);
  h.start({t});
  h.advance(1s);
  CHECK_FALSE(h.finished);  // nothing arrived yet
  h.client.write("reset toxic payload\n");
  h.poll();
  CHECK(h.client.was_reset());
  CHECK(h.server.was_reset());
  CHECK(h.server.read().empty());
  CHECK(h.finished);
  CHECK(t.counters->snapshot().connections_reset_total == 1);
}

TEST_CASE("reset_peer with timeout resets 100 ms after data arrives", "[faults][proxy]") {
  for (auto d : {direction::upstream, direction::downstream}) {
    harness h;
    h.start({h.entry(std::make_shared<fp::reset_peer_toxic>(100ms), d)});
    (d == direction::upstream ? h.client : h.server).write("payload");
    h.advance(99ms);
    CHECK_FALSE(h.client.was_reset());
    h.advance(1ms);
    CHECK(h.client.was_reset());
    CHECK(h.server.was_reset());
  }
}

TEST_CASE("removing reset_peer after it swallowed data closes instead of leaving a hole", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::reset_peer_toxic>(10s), direction::upstream);
  h.start({t});
  h.client.write("swallowed");
  h.poll();
  h.conn->remove_toxic(t.id, direction::upstream);
  h.poll();
  CHECK(h.finished);
  CHECK(h.server.fin());
  CHECK_FALSE(h.server.was_reset());
}
