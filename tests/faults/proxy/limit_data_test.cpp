// limit_data toxic: Toxiproxy's stub cases, then the connection-level close.
#include "faults/proxy/limit_data.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;

namespace {

// Feeds chunks of the given sizes to a limit_data toxic; returns the sizes passed on.
std::vector<std::size_t> feed(std::uint64_t limit, std::vector<std::size_t> sizes, recording_io& io) {
  fp::limit_data_toxic t(limit);
  auto state = t.new_state();
  for (auto n : sizes) t.on_data(io.data(pattern(n)), state.get(), io);
  std::vector<std::size_t> out;
  for (const auto& p : io.out) out.push_back(p.item.size());
  return out;
}

}  // namespace

TEST_CASE("limit_data passes what fits and closes at the limit (Toxiproxy's cases)", "[faults][proxy]") {
  using sizes = std::vector<std::size_t>;
  SECTION("50 of 100: passed, still open") {
    recording_io io;
    CHECK(feed(100, {50}, io) == sizes{50});
    CHECK_FALSE(io.close);
  }
  SECTION("exactly 100: passed, closed") {
    recording_io io;
    CHECK(feed(100, {100}, io) == sizes{100});
    CHECK(io.close);
  }
  SECTION("150: 100 passed, 50 dropped, closed") {
    recording_io io;
    CHECK(feed(100, {150}, io) == sizes{100});
    CHECK(io.dropped_bytes == 50);
    CHECK(io.close);
  }
  SECTION("4 x 25: all passed") {
    recording_io io;
    CHECK(feed(100, {25, 25, 25, 25}, io) == sizes{25, 25, 25, 25});
  }
  SECTION("90 then 20: 90 then 10") {
    recording_io io;
    CHECK(feed(100, {90, 20}, io) == sizes{90, 10});
    CHECK(io.close);
  }
  SECTION("limit 0: nothing passed, closed on the first data") {
    recording_io io;
    CHECK(feed(0, {100}, io).empty());
    CHECK(io.close);
  }
}

TEST_CASE("limit_data keeps its count when updated (Toxiproxy: may be restarted)", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::limit_data_toxic>(100), direction::upstream);
  h.start({t});
  h.client.write(pattern(90));
  h.poll();
  CHECK(h.server.read().size() == 90);
  auto updated = t;
  updated.config = std::make_shared<fp::limit_data_toxic>(100);
  h.conn->update_toxic(updated);
  h.poll();
  h.client.write(pattern(20));
  h.poll();
  CHECK(h.server.read().size() == 10);
}

TEST_CASE("limit_data closes both sides after the bytes it passed are delivered", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::limit_data_toxic>(10));
  h.start({t});
  h.server.write("0123456789abcdef");
  h.poll();
  CHECK(h.client.read() == "0123456789");
  CHECK(h.client.fin());
  CHECK(h.server.fin());
  CHECK_FALSE(h.client.was_reset());
  CHECK(h.finished);
  CHECK(t.counters->snapshot().connections_closed_total == 1);
  CHECK(t.counters->snapshot().bytes_dropped_total == 6);
}
