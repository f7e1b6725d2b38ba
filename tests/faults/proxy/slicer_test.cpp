// slicer toxic: Toxiproxy's piece count case, order and timing.
#include "faults/proxy/slicer.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;

TEST_CASE("slicer cuts 480000 bytes (average 1024, variation 512) into 240..720 pieces in order", "[faults][proxy]") {
  fp::slicer_toxic t(1024, 512, 10us);
  recording_io io;
  auto state = t.new_state();
  std::string data;
  for (int i = 0; i < 40000; ++i) data += "hello world ";
  t.on_data(io.data(data), state.get(), io);
  CHECK(io.out.size() >= 240);
  CHECK(io.out.size() <= 720);
  std::string joined;
  for (std::size_t i = 0; i < io.out.size(); ++i) {
    joined += io.text(i);
    if (i > 0) CHECK(io.out[i].at - io.out[i - 1].at == 10us);
  }
  CHECK(joined == data);
}

TEST_CASE("slicer pieces stay near the average size", "[faults][proxy]") {
  fp::slicer_toxic t(100, 20, 0us);
  std::mt19937_64 rng(3);
  auto bounds = t.cut(100'000, rng);
  REQUIRE(bounds.front() == 0);
  REQUIRE(bounds.back() == 100'000);
  for (std::size_t i = 1; i < bounds.size(); ++i) {
    CHECK(bounds[i] > bounds[i - 1]);
    CHECK(bounds[i] - bounds[i - 1] <= 120);
  }
}

TEST_CASE("slicer through a connection: intact, in order, pieces spaced by the delay", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::slicer_toxic>(10, 5, 1ms));
  h.start({t});
  const auto data = pattern(1000);
  h.server.write(data);
  h.poll();
  auto head = h.client.read();  // the first piece leaves at once, the others 1 ms apart
  CHECK(head.size() >= 5);
  CHECK(head.size() <= 15);
  h.advance(1s);
  CHECK(head + h.client.read() == data);
  CHECK(t.counters->snapshot().chunks_out_total > 50);
}
