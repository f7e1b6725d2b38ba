// The connection: half-close in both directions, resets mirrored, counters.
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;

TEST_CASE("half-close: a FIN in one direction leaves the other open", "[faults][proxy]") {
  harness h;
  h.start();
  h.client.write("request");
  h.client.shutdown_send();
  h.poll();
  CHECK(h.server.read() == "request");
  CHECK(h.server.fin());
  CHECK_FALSE(h.client.fin());
  CHECK_FALSE(h.finished);
  h.server.write("response after the client's FIN");
  h.poll();
  CHECK(h.client.read() == "response after the client's FIN");
  h.server.shutdown_send();
  h.poll();
  CHECK(h.client.fin());
  CHECK(h.finished);
  CHECK_FALSE(h.client.was_reset());
}

TEST_CASE("a reset from one side is passed on as a reset", "[faults][proxy]") {
  harness h;
  h.start();
  h.server.reset();
  h.poll();
  CHECK(h.client.was_reset());
  CHECK(h.finished);
}

TEST_CASE("close() sends FIN to both sides and ends the connection", "[faults][proxy]") {
  harness h;
  h.start();
  h.conn->close();
  h.poll();
  CHECK(h.client.fin());
  CHECK(h.server.fin());
  CHECK(h.finished);
}

TEST_CASE("per-direction counters count bytes received and sent", "[faults][proxy]") {
  harness h;
  h.start();
  h.client.write("12345");
  h.server.write("123");
  h.poll();
  CHECK(h.up.bytes_received_total.load() == 5);
  CHECK(h.up.bytes_sent_total.load() == 5);
  CHECK(h.down.bytes_received_total.load() == 3);
  CHECK(h.down.bytes_sent_total.load() == 3);
}
