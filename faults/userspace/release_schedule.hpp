#pragma once
// The packets the userspace engine holds, ordered by when each is due. One timer waits for the
// earliest. Two orders: by due time (netem's: a packet with less jitter overtakes one with more),
// or arrival order kept (keep_order: a packet is never due before the one that arrived before it).

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace faultline::faults::userspace {

using packet_clock = std::chrono::steady_clock;

struct held_packet {
  packet_clock::time_point due;
  packet_clock::time_point arrived;
  std::uint32_t id = 0;                 // the kernel's packet id; unused for a copy
  bool copy = false;                    // a duplicate faultline sends itself
  bool modified = false;                // `payload` replaces the packet (corrupted)
  std::vector<std::uint8_t> payload;    // for modified packets and copies
  std::uint64_t sequence = 0;           // set by hold(): arrival order, breaks ties
};

class release_schedule {
public:
  explicit release_schedule(bool keep_order) : keep_order_(keep_order) {}

  // Holds a packet. With keep_order its due time is raised to that of the packet before it.
  void hold(held_packet p);
  std::optional<packet_clock::time_point> next_due() const;
  // Appends every packet due at or before `now` to `out`, earliest first.
  void take_due(packet_clock::time_point now, std::vector<held_packet>& out);
  // Appends every packet, earliest first (on shutdown).
  void take_all(std::vector<held_packet>& out);

  std::size_t size() const { return keep_order_ ? fifo_.size() : heap_.size(); }
  bool empty() const { return size() == 0; }
  bool keeps_order() const { return keep_order_; }

private:
  bool keep_order_;
  std::uint64_t next_sequence_ = 0;
  packet_clock::time_point last_due_{};
  std::deque<held_packet> fifo_;    // keep_order: due times never decrease
  std::vector<held_packet> heap_;   // otherwise: a min-heap on (due, sequence)
};

}  // namespace faultline::faults::userspace
