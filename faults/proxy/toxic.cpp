#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

namespace {
constexpr std::size_t spare_buffers = 32;
thread_local std::vector<byte_buffer> spare;
}  // namespace

byte_buffer take_buffer(std::size_t size) {
  if (!spare.empty() && spare.back().capacity() >= size) {
    auto b = std::move(spare.back());
    spare.pop_back();
    b.resize(size);
    return b;
  }
  return byte_buffer(size);
}

void recycle_buffer(byte_buffer&& buffer) {
  if (buffer.capacity() < (16u << 10) || spare.size() >= spare_buffers) return;  // small ones are not worth keeping
  spare.push_back(std::move(buffer));
}

const char* to_string(direction d) { return d == direction::upstream ? "upstream" : "downstream"; }

std::optional<direction> parse_direction(std::string_view text) {
  if (text == "upstream") return direction::upstream;
  if (text == "downstream") return direction::downstream;
  return std::nullopt;
}

nlohmann::json toxic_stats::to_json() const {
  return {
      {"bytes_delayed_total", bytes_delayed_total},
      {"bytes_dropped_total", bytes_dropped_total},
      {"bytes_in_total", bytes_in_total},
      {"chunks_delayed_total", chunks_delayed_total},
      {"chunks_in_total", chunks_in_total},
      {"chunks_out_total", chunks_out_total},
      {"closes_delayed_total", closes_delayed_total},
      {"connections_closed_total", connections_closed_total},
      {"connections_reset_total", connections_reset_total},
      {"delay_ns_total", delay_ns_total},
      {"links_affected_total", links_affected_total},
      {"links_total", links_total},
  };
}

toxic_stats toxic_counters::snapshot() const {
  constexpr auto r = std::memory_order_relaxed;
  toxic_stats s;
  s.bytes_delayed_total = bytes_delayed_total.load(r);
  s.bytes_dropped_total = bytes_dropped_total.load(r);
  s.bytes_in_total = bytes_in_total.load(r);
  s.chunks_delayed_total = chunks_delayed_total.load(r);
  s.chunks_in_total = chunks_in_total.load(r);
  s.chunks_out_total = chunks_out_total.load(r);
  s.closes_delayed_total = closes_delayed_total.load(r);
  s.connections_closed_total = connections_closed_total.load(r);
  s.connections_reset_total = connections_reset_total.load(r);
  s.delay_ns_total = delay_ns_total.load(r);
  s.links_affected_total = links_affected_total.load(r);
  s.links_total = links_total.load(r);
  return s;
}

void toxic::on_eof(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp;
  io.pass(std::move(c), at);
}

void toxic::on_start(toxic_state*, stage_io&) const {}
void toxic::on_stop(toxic_state*, stage_io&) const {}

}  // namespace faultline::proxy
