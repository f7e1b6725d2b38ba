// The link: toxicity, live add/update/remove without losing or reordering bytes, back-pressure.
#include "faults/proxy/bandwidth.hpp"
#include "faults/proxy/latency.hpp"
#include "faults/proxy/timeout.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;

TEST_CASE("toxicity 0 has no effect at all", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::timeout_toxic>(1ms), direction::downstream, 0.0);
  h.start({t});
  h.server.write("through");
  h.advance(1s);
  CHECK(h.client.read() == "through");
  CHECK_FALSE(h.finished);
  h.conn->remove_toxic(t.id, direction::downstream);  // an inactive timeout does not close on removal
  h.poll();
  CHECK_FALSE(h.finished);
  auto s = t.counters->snapshot();
  CHECK(s.links_total == 1);
  CHECK(s.links_affected_total == 0);
  CHECK(s.bytes_in_total == 0);
  CHECK(s.bytes_dropped_total == 0);
}

TEST_CASE("toxicity picks about that share of connections", "[faults][proxy]") {
  auto counters = std::make_shared<fp::toxic_counters>();
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    harness h(fp::tcp_protocol().open_session(), 8u << 20, seed);
    h.start({{"", direction::downstream, 0.25, std::make_shared<fp::latency_toxic>(1ms, 0ms), counters, 1}});
  }
  auto s = counters->snapshot();
  CHECK(s.links_total == 400);
  CHECK(s.links_affected_total >= 60);   // 100 expected
  CHECK(s.links_affected_total <= 140);
}

TEST_CASE("a toxic added to a live connection applies to later bytes only, in order", "[faults][proxy]") {
  harness h;
  h.start();
  h.server.write("before,");
  h.poll();
  auto t = h.entry(std::make_shared<fp::latency_toxic>(100ms, 0ms));
  h.conn->add_toxic(t);
  h.server.write("after");
  h.poll();
  CHECK(h.client.read() == "before,");
  h.advance(100ms);
  CHECK(h.client.read() == "after");
}

TEST_CASE("updating a toxic passes on what it held and applies the new settings", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::latency_toxic>(10s, 0ms));
  h.start({t});
  h.server.write("held,");
  h.poll();
  auto changed = t;
  changed.config = std::make_shared<fp::latency_toxic>(50ms, 0ms);
  h.conn->update_toxic(changed);
  h.poll();
  CHECK(h.client.read() == "held,");
  h.server.write("new");
  h.advance(49ms);
  CHECK(h.client.pending() == 0);
  h.advance(1ms);
  CHECK(h.client.read() == "new");
}

TEST_CASE("add and remove in a loop while data flows: nothing lost or reordered", "[faults][proxy]") {
  harness h;
  h.start();
  std::string sent;
  std::string got;
  std::uint64_t live = 0;  // at most two toxics at a time: the previous one and a new one
  for (int i = 0; i < 2000; ++i) {
    auto piece = std::to_string(i) + ";";
    sent += piece;
    h.server.write(piece);
    auto t = h.entry(std::make_shared<fp::latency_toxic>(std::chrono::milliseconds(i % 7), std::chrono::milliseconds(i % 3)));
    h.conn->add_toxic(t);
    h.advance(std::chrono::microseconds(500 * (i % 4)));
    if (live) h.conn->remove_toxic(live, direction::downstream);
    live = 0;
    if (i % 2) h.conn->remove_toxic(t.id, direction::downstream);
    else live = t.id;
    h.poll();
    got += h.client.read();
  }
  if (live) h.conn->remove_toxic(live, direction::downstream);
  h.advance(1s);
  got += h.client.read();
  CHECK(got == sent);
}

TEST_CASE("a slow toxic makes the reader wait instead of buffering without bound", "[faults][proxy]") {
  harness h(fp::tcp_protocol().open_session(), 64 * 1024);
  auto t = h.entry(std::make_shared<fp::bandwidth_toxic>(0.0));
  h.start({t});
  const auto data = pattern(1 << 20);
  h.server.write(data);
  h.advance(1s);
  auto in_flight = h.conn->link_of(direction::downstream).queued_bytes();
  CHECK(in_flight >= 64 * 1024);
  CHECK(in_flight <= 64 * 1024 + 64 * 1024);  // one read over the limit at most
  CHECK(h.down.bytes_received_total.load() == in_flight);
  h.conn->remove_toxic(t.id, direction::downstream);
  h.poll();
  CHECK(h.client.read() == data);
}

TEST_CASE("a failing write resets both sides", "[faults][proxy]") {
  harness h;
  h.start();
  h.client.fail_operation(1, boost::asio::error::connection_reset);
  h.server.write("to a dead client");
  h.poll();
  CHECK(h.finished);
  CHECK(h.server.was_reset());
}

TEST_CASE("a slow reader on the far side holds the writer, not the whole process", "[faults][proxy]") {
  harness h(fp::tcp_protocol().open_session(), 128 * 1024);
  h.client.limit_capacity(1000);
  h.start();
  const auto data = pattern(1 << 20);
  h.server.write(data);
  h.poll();
  std::string got = h.client.read();
  for (int i = 0; i < 100000 && got.size() < data.size(); ++i) {
    h.poll();
    got += h.client.read();
  }
  CHECK(got == data);
}
