// blackhole toxic: accepts, forwards nothing, never closes; no hole is left behind on removal.
#include "faults/proxy/blackhole.hpp"
#include "faults/proxy/noop.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;

TEST_CASE("blackhole swallows data and the end of stream, and keeps the connection open", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::blackhole_toxic>(), direction::upstream);
  h.start({t});
  h.client.write("into the void");
  h.client.shutdown_send();
  h.advance(1h);
  CHECK(h.server.pending() == 0);
  CHECK_FALSE(h.server.fin());
  CHECK_FALSE(h.finished);
  CHECK(t.counters->snapshot().bytes_dropped_total == 13);
  SECTION("removed after swallowing bytes: the connection is closed") {
    h.conn->remove_toxic(t.id, direction::upstream);
    h.poll();
    CHECK(h.finished);
  }
}

TEST_CASE("blackhole removed before anything arrived: the stream goes on", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::blackhole_toxic>(), direction::upstream);
  h.start({t});
  h.conn->remove_toxic(t.id, direction::upstream);
  h.client.write("after");
  h.poll();
  CHECK(h.server.read() == "after");
  CHECK_FALSE(h.finished);
}

TEST_CASE("noop passes everything", "[faults][proxy]") {
  harness h;
  h.start({h.entry(std::make_shared<fp::noop_toxic>())});
  h.server.write("as is");
  h.poll();
  CHECK(h.client.read() == "as is");
}
