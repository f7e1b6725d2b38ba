#include "faults/protocol/reply_queue.hpp"

#include <algorithm>
#include <utility>

namespace faultline::protocol {

using proxy::direction;

void reply_queue::push(proxy::session_io& io, std::string_view bytes, proxy::time_point at, const holder_ptr& holder) {
  if (bytes.empty() || cut_) return;
  if (!gathered_.empty() && (gathered_at_ != at || gathered_holder_ != holder)) flush(io);
  gathered_at_ = at;
  gathered_holder_ = holder;
  append(gathered_, bytes);
}

void reply_queue::flush(proxy::session_io& io) {
  if (gathered_.empty()) return;
  queue(io, std::exchange(gathered_, proxy::byte_buffer()), gathered_at_, std::exchange(gathered_holder_, nullptr));
}

void reply_queue::abandon() {
  cut_ = true;
  gathered_.clear();
  pieces_.clear();
  bytes_ = 0;
}

void reply_queue::queue(proxy::session_io& io, proxy::byte_buffer bytes, proxy::time_point at, holder_ptr holder) {
  if (bytes.empty()) return;
  // The common case: nothing waits and nothing holds this piece.
  if (pieces_.empty() && !cut_ && at <= io.now()) {
    proxy::chunk c{proxy::chunk::kind::data, std::move(bytes), io.now()};
    io.forward(direction::downstream, std::move(c));
    return;
  }
  // Consecutive pieces with the same release join, so a held reply is one chunk.
  if (!pieces_.empty()) {
    auto& last = pieces_.back();
    if (last.what == kind::bytes && last.at == at && last.holder == holder) {
      last.bytes.insert(last.bytes.end(), bytes.begin(), bytes.end());
      bytes_ += bytes.size();
      flow_control(io);
      return;
    }
  }
  add(io, {kind::bytes, std::move(bytes), at, std::move(holder)});
}

void reply_queue::push_end(proxy::session_io& io) {
  flush(io);
  add(io, {kind::end, {}, {}, nullptr});
}

void reply_queue::push_cut(proxy::session_io& io, bool reset) {
  flush(io);
  add(io, {reset ? kind::reset : kind::close, {}, {}, nullptr});
}

void reply_queue::add(proxy::session_io& io, piece p) {
  if (cut_) return;
  bytes_ += p.bytes.size();
  pieces_.push_back(std::move(p));
  pump(io);
}

void reply_queue::release_orphans(proxy::session_io& io) {
  const auto& live = io.message_toxics();
  bool changed = false;
  for (auto& p : pieces_) {
    if (!p.holder) continue;
    bool present = std::any_of(live.begin(), live.end(), [&](const proxy::installed_toxic& t) { return t.config == p.holder; });
    if (!present) {
      p.holder.reset();
      p.at = {};
      changed = true;
    }
  }
  if (changed) pump(io);
}

void reply_queue::pump(proxy::session_io& io) {
  const auto now = io.now();
  while (!pieces_.empty() && !cut_) {
    auto& front = pieces_.front();
    if (front.at > now) {
      if (!wake_ || *wake_ > front.at) {
        wake_ = front.at;
        io.call_at(front.at, [this, at = front.at](proxy::session_io& again) {
          if (wake_ == at) wake_.reset();
          pump(again);
        });
      }
      break;
    }
    auto p = std::move(front);
    pieces_.pop_front();
    bytes_ -= p.bytes.size();
    switch (p.what) {
      case kind::bytes: io.forward(direction::downstream, {proxy::chunk::kind::data, std::move(p.bytes), now}); break;
      case kind::end: io.end(direction::downstream); break;
      case kind::close:
        cut_ = true;
        io.forward(direction::downstream, proxy::chunk::close_request(now));  // after what went before
        break;
      case kind::reset:
        cut_ = true;
        io.reset();
        break;
    }
  }
  if (cut_) {
    pieces_.clear();
    bytes_ = 0;
  }
  flow_control(io);
}

void reply_queue::flow_control(proxy::session_io& io) {
  if (!paused_ && bytes_ > pause_above) {
    paused_ = true;
    io.pause_reading(direction::downstream, true);
  } else if (paused_ && bytes_ < resume_below) {
    paused_ = false;
    io.pause_reading(direction::downstream, false);
  }
}

void send_to_server(proxy::session_io& io, proxy::byte_buffer& pending, bool cut) {
  if (pending.empty() || cut) {
    pending.clear();
    return;
  }
  io.forward(direction::upstream, {proxy::chunk::kind::data, std::exchange(pending, proxy::byte_buffer()), io.now()});
}

}  // namespace faultline::protocol
