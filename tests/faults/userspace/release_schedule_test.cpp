#include "faults/userspace/release_schedule.hpp"

#include <catch2/catch.hpp>

using namespace faultline::faults::userspace;
using namespace std::chrono_literals;

namespace {

held_packet packet(std::uint32_t id, packet_clock::time_point due) {
  held_packet p;
  p.id = id;
  p.due = due;
  p.arrived = due;
  return p;
}

std::vector<std::uint32_t> ids(const std::vector<held_packet>& v) {
  std::vector<std::uint32_t> out;
  for (const auto& p : v) out.push_back(p.id);
  return out;
}

}  // namespace

TEST_CASE("release_schedule releases by due time, ties in arrival order", "[faults]") {
  const auto t0 = packet_clock::now();
  release_schedule s(false);
  s.hold(packet(1, t0 + 30ms));
  s.hold(packet(2, t0 + 10ms));
  s.hold(packet(3, t0 + 20ms));
  s.hold(packet(4, t0 + 10ms));
  REQUIRE(s.next_due() == t0 + 10ms);

  std::vector<held_packet> out;
  s.take_due(t0 + 5ms, out);
  CHECK(out.empty());
  s.take_due(t0 + 20ms, out);
  CHECK(ids(out) == std::vector<std::uint32_t>{2, 4, 3});
  CHECK(s.size() == 1);
  out.clear();
  s.take_all(out);
  CHECK(ids(out) == std::vector<std::uint32_t>{1});
  CHECK(s.empty());
  CHECK_FALSE(s.next_due());
}

TEST_CASE("release_schedule with keep_order never lets a packet overtake an earlier one", "[faults]") {
  const auto t0 = packet_clock::now();
  release_schedule s(true);
  s.hold(packet(1, t0 + 30ms));
  s.hold(packet(2, t0 + 10ms));  // raised to 30 ms
  s.hold(packet(3, t0 + 40ms));
  std::vector<held_packet> out;
  s.take_due(t0 + 29ms, out);
  CHECK(out.empty());
  s.take_due(t0 + 30ms, out);
  CHECK(ids(out) == std::vector<std::uint32_t>{1, 2});
  CHECK(out[1].due == t0 + 30ms);
  CHECK(s.next_due() == t0 + 40ms);
}
