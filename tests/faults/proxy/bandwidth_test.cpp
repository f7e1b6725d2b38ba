// bandwidth toxic: Toxiproxy's rate case and the edge cases of rate 0 and removal.
#include "faults/proxy/bandwidth.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;

TEST_CASE("bandwidth: 480000 bytes at 1000 KB/s take 480 ms (+/- 10)", "[faults][proxy]") {
  harness h;
  h.start({h.entry(std::make_shared<fp::bandwidth_toxic>(1000.0 * 1000), direction::upstream)});
  const auto data = pattern(480000);
  h.client.write(data);
  h.poll();
  auto took = h.time_until(h.server, data.size());
  CHECK(std::chrono::abs(took - 480ms) <= 10ms);
  CHECK(h.server.read() == data);
}

TEST_CASE("bandwidth paces evenly: half the bytes after half the time", "[faults][proxy]") {
  harness h;
  h.start({h.entry(std::make_shared<fp::bandwidth_toxic>(100'000.0))});  // 100 KB/s
  h.server.write(pattern(100'000));
  h.advance(500ms);
  auto half = h.client.pending();
  CHECK(half >= 45'000);
  CHECK(half <= 55'000);
  h.advance(500ms);
  CHECK(h.client.pending() == 100'000);
}

TEST_CASE("bandwidth 0 passes nothing until the toxic goes, then everything in order", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::bandwidth_toxic>(0.0));
  h.start({t});
  h.server.write("held back");
  h.advance(10s);
  CHECK(h.client.pending() == 0);
  CHECK(t.counters->snapshot().bytes_delayed_total == 9);
  h.conn->remove_toxic(t.id, direction::downstream);
  h.poll();
  CHECK(h.client.read() == "held back");
}

TEST_CASE("bandwidth renders rate in KB/s", "[faults][proxy]") {
  CHECK(fp::bandwidth_toxic(1000.0 * 1000).attributes().dump() == R"({"rate":1000})");
}
