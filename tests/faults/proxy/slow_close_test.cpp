// slow_close toxic: the end of the stream is late, data is not.
#include "faults/proxy/slow_close.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;

TEST_CASE("slow_close delays the FIN by its delay and leaves data alone", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::slow_close_toxic>(300ms));
  h.start({t});
  h.server.write("data");
  h.server.shutdown_send();
  h.poll();
  CHECK(h.client.read() == "data");
  CHECK_FALSE(h.client.fin());
  h.advance(299ms);
  CHECK_FALSE(h.client.fin());
  h.advance(1ms);
  CHECK(h.client.fin());
  CHECK(t.counters->snapshot().closes_delayed_total == 1);
}
