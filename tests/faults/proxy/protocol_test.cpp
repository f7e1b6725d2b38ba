// The protocol extension point: a session owns the message pipeline, message-level toxics reach
// it, and byte toxics still apply to what it forwards (including replies it makes up).
#include "faults/proxy/latency.hpp"
#include "faults/proxy/protocol.hpp"
#include "tests/faults/proxy/harness.hpp"
#include "tests/faults/proxy/line_protocol.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;


TEST_CASE("a protocol session can answer the client itself, under byte toxics", "[faults][proxy]") {
  harness h(std::make_unique<line_session>());
  auto counters = std::make_shared<fp::toxic_counters>();
  auto messages = std::make_shared<fp::message_toxic_list>(fp::message_toxic_list{
      {"ping", direction::upstream, 1.0, std::make_shared<answer_line>("PING", "+PONG"), counters}});
  auto latency = h.entry(std::make_shared<fp::latency_toxic>(30ms, 0ms));
  h.start({latency}, messages);

  h.client.write("GET a\nPING\nGET b\n");
  h.poll();
  CHECK(h.server.read() == "GET a\nGET b\n");
  CHECK(h.client.pending() == 0);  // the reply goes through the downstream latency toxic
  h.advance(30ms);
  CHECK(h.client.read() == "+PONG\n");
  CHECK(counters->snapshot().chunks_in_total == 1);

  SECTION("message toxics can be swapped on a live connection") {
    h.conn->set_message_toxics(std::make_shared<fp::message_toxic_list>());
    h.client.write("PING\n");
    h.poll();
    CHECK(h.server.read() == "PING\n");
  }
}

TEST_CASE("the protocol registry knows tcp and rejects duplicates", "[faults][proxy]") {
  fp::protocol_registry r;
  fp::register_builtin_protocols(r);
  CHECK(r.find("tcp"));
  CHECK_FALSE(r.find("line"));
  CHECK_THROWS_AS(r.add(std::make_shared<fp::tcp_protocol>()), std::logic_error);
}
