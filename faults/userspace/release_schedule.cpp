#include "faults/userspace/release_schedule.hpp"

#include <algorithm>

namespace faultline::faults::userspace {
namespace {

// std::push_heap builds a max-heap; "later" puts the earliest due packet on top.
bool later(const held_packet& a, const held_packet& b) {
  if (a.due != b.due) return a.due > b.due;
  return a.sequence > b.sequence;
}

}  // namespace

void release_schedule::hold(held_packet p) {
  p.sequence = next_sequence_++;
  if (keep_order_) {
    if (p.due < last_due_) p.due = last_due_;
    last_due_ = p.due;
    fifo_.push_back(std::move(p));
    return;
  }
  heap_.push_back(std::move(p));
  std::push_heap(heap_.begin(), heap_.end(), later);
}

std::optional<packet_clock::time_point> release_schedule::next_due() const {
  if (keep_order_) {
    if (fifo_.empty()) return std::nullopt;
    return fifo_.front().due;
  }
  if (heap_.empty()) return std::nullopt;
  return heap_.front().due;
}

void release_schedule::take_due(packet_clock::time_point now, std::vector<held_packet>& out) {
  if (keep_order_) {
    while (!fifo_.empty() && fifo_.front().due <= now) {
      out.push_back(std::move(fifo_.front()));
      fifo_.pop_front();
    }
    return;
  }
  while (!heap_.empty() && heap_.front().due <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    out.push_back(std::move(heap_.back()));
    heap_.pop_back();
  }
}

void release_schedule::take_all(std::vector<held_packet>& out) { take_due(packet_clock::time_point::max(), out); }

}  // namespace faultline::faults::userspace
