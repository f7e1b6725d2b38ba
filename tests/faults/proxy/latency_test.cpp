// latency toxic: Toxiproxy's behavioural cases, on in-memory streams with a manual clock.
#include "faults/proxy/latency.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;

namespace {

std::string message() { return "hello world " + std::string(32 * 1024, 'a') + "\n"; }

// Toxiproxy's DoLatencyTest: the server reads after the upstream latency, the client reads the
// echo after the downstream latency, both within jitter + 10 ms.
void round_trip(int up_ms, int down_ms, int up_jitter = 0, int down_jitter = 0) {
  harness h;
  std::vector<fp::installed_toxic> toxics;
  if (up_ms || up_jitter) toxics.push_back(h.entry(std::make_shared<fp::latency_toxic>(std::chrono::milliseconds(up_ms), std::chrono::milliseconds(up_jitter)), direction::upstream));
  if (down_ms || down_jitter) toxics.push_back(h.entry(std::make_shared<fp::latency_toxic>(std::chrono::milliseconds(down_ms), std::chrono::milliseconds(down_jitter)), direction::downstream));
  h.start(toxics);
  const auto msg = message();
  for (int round = 0; round < 2; ++round) {
    h.client.write(msg);
    h.poll();
    auto up = h.time_until(h.server, msg.size());
    REQUIRE(h.server.read() == msg);
    CHECK(std::chrono::abs(up - std::chrono::milliseconds(up_ms)) <= std::chrono::milliseconds(up_jitter + 10));
    h.server.write(msg);
    h.poll();
    auto down = h.time_until(h.client, msg.size());
    REQUIRE(h.client.read() == msg);
    CHECK(std::chrono::abs(down - std::chrono::milliseconds(down_ms)) <= std::chrono::milliseconds(down_jitter + 10));
  }
}

}  // namespace

TEST_CASE("latency delays each direction by its own latency (Toxiproxy's cases)", "[faults][proxy]") {
  SECTION("upstream 100 ms") { round_trip(100, 0); }
  SECTION("downstream 100 ms") { round_trip(0, 100); }
  SECTION("both 100 ms") { round_trip(100, 100); }
  SECTION("bias up 1000/100") { round_trip(1000, 100); }
  SECTION("bias down 100/1000") { round_trip(100, 1000); }
  SECTION("zero latency") { round_trip(0, 0); }
  SECTION("with jitter, within jitter + 10 ms") {
    for (int i = 0; i < 5; ++i) round_trip(100, 100, 50, 20);
  }
}

TEST_CASE("latency without jitter is exact on a manual clock", "[faults][proxy]") {
  harness h;
  h.start({h.entry(std::make_shared<fp::latency_toxic>(100ms, 0ms))});
  h.server.write("x");
  h.advance(99ms);
  CHECK(h.client.pending() == 0);
  h.advance(1ms);
  CHECK(h.client.read() == "x");
}

TEST_CASE("two stacked 500 ms latency toxics give 1000 ms", "[faults][proxy]") {
  harness h;
  h.start({h.entry(std::make_shared<fp::latency_toxic>(500ms, 0ms), direction::upstream),
           h.entry(std::make_shared<fp::latency_toxic>(500ms, 0ms), direction::upstream)});
  h.client.write(message());
  h.poll();
  CHECK(h.time_until(h.server, message().size()) == 1000ms);
}

TEST_CASE("latency is measured from each chunk's arrival, so it does not cap throughput", "[faults][proxy]") {
  harness h;
  h.start({h.entry(std::make_shared<fp::latency_toxic>(100ms, 0ms))});
  std::vector<std::pair<int, std::string>> got;
  for (int now_ms = 0; now_ms <= 250; ++now_ms) {
    if (now_ms % 10 == 0 && now_ms < 100) h.server.write(std::string(1000, static_cast<char>('0' + now_ms / 10)));
    h.poll();
    if (h.client.pending()) got.emplace_back(now_ms, h.client.read());
    h.advance(1ms);
  }
  REQUIRE(got.size() == 10);
  for (int i = 0; i < 10; ++i) {
    CHECK(got[i].first == 100 + 10 * i);
    CHECK(got[i].second == std::string(1000, static_cast<char>('0' + i)));
  }
}

TEST_CASE("jitter never reorders chunks", "[faults][proxy]") {
  harness h;
  h.start({h.entry(std::make_shared<fp::latency_toxic>(50ms, 45ms))});
  std::string sent;
  for (int i = 0; i < 200; ++i) {
    auto piece = std::to_string(i) + ",";
    sent += piece;
    h.server.write(piece);
    h.advance(1ms);
  }
  h.advance(200ms);
  CHECK(h.client.read() == sent);
}

TEST_CASE("removing latency passes the bytes it holds on at once, in order", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::latency_toxic>(10s, 0ms));
  h.start({t});
  h.server.write("first,");
  h.advance(1ms);
  h.server.write("second,");
  h.poll();
  CHECK(h.client.pending() == 0);
  h.conn->remove_toxic(t.id, direction::downstream);
  h.poll();
  CHECK(h.client.read() == "first,second,");
  h.server.write("third");
  h.poll();
  CHECK(h.client.read() == "third");
}

TEST_CASE("latency counts what it delayed", "[faults][proxy]") {
  harness h;
  auto t = h.entry(std::make_shared<fp::latency_toxic>(20ms, 0ms));
  h.start({t});
  h.server.write("abc");
  h.advance(20ms);
  auto s = t.counters->snapshot();
  CHECK(s.chunks_delayed_total == 1);
  CHECK(s.bytes_delayed_total == 3);
  CHECK(s.delay_ns_total == 20'000'000);
  CHECK(s.links_affected_total == 1);
}

TEST_CASE("latency renders Toxiproxy's attributes", "[faults][proxy]") {
  CHECK(fp::latency_toxic(100ms, 10ms).attributes().dump() == R"({"latency":100,"jitter":10})");
  CHECK(fp::latency_toxic(1500us, 0ms).attributes().dump() == R"({"latency":1.5,"jitter":0})");
}
