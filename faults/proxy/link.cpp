#include "faults/proxy/link.hpp"

#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace faultline::proxy {
namespace asio = boost::asio;

namespace {
constexpr auto relaxed = std::memory_order_relaxed;
constexpr std::size_t max_write_batch = 256 * 1024;
}  // namespace

struct link::stage {
  struct scheduled {
    time_point at;
    chunk item;
  };

  std::uint64_t id = 0;
  std::shared_ptr<const toxic> behaviour;
  std::shared_ptr<toxic_counters> counters;
  std::unique_ptr<toxic_state> state;
  bool active = false;  // toxicity chose to apply the toxic on this link
  bool lost = false;    // the toxic dropped bytes here: the stream has a hole
  std::deque<scheduled> out;
  std::optional<time_point> close_due;
  std::optional<time_point> reset_due;
};

// The stage_io a toxic sees; counts effects only for active stages.
class link::port final : public stage_io {
public:
  port(link& l, stage& s) : link_(l), stage_(s) {}

  time_point now() const override { return link_.clock_.now(); }

  void pass(chunk c, time_point at) override {
    at = std::max(at, c.stamp);
    if (stage_.active) {
      auto& k = *stage_.counters;
      if (c.what == chunk::kind::data) {
        k.chunks_out_total.fetch_add(1, relaxed);
        if (at > c.stamp) {
          k.chunks_delayed_total.fetch_add(1, relaxed);
          k.bytes_delayed_total.fetch_add(c.size(), relaxed);
          if (at != time_point::max())
            k.delay_ns_total.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(at - c.stamp).count()), relaxed);
        }
      } else if (c.what == chunk::kind::eof && at > c.stamp) {
        k.closes_delayed_total.fetch_add(1, relaxed);
      }
    }
    link_.queued_ += c.size();
    stage_.out.push_back({at, std::move(c)});
  }

  void drop(const chunk& c) override {
    stage_.lost = true;
    if (stage_.active) stage_.counters->bytes_dropped_total.fetch_add(c.size(), relaxed);
  }

  void close_at(time_point at) override { stage_.close_due = stage_.close_due ? std::min(*stage_.close_due, at) : at; }
  void reset_at(time_point at) override { stage_.reset_due = stage_.reset_due ? std::min(*stage_.reset_due, at) : at; }
  std::mt19937_64& random() override { return link_.owner_.random(); }

private:
  link& link_;
  stage& stage_;
};

link::link(direction d, byte_stream& destination, clock& time, owner& o, std::size_t buffer_limit, direction_counters* counters)
    : direction_(d),
      destination_(destination),
      direct_(dynamic_cast<tcp_stream*>(&destination)),
      clock_(time),
      owner_(o),
      limit_(buffer_limit),
      counters_(counters),
      space_wake_(destination.get_executor()),
      drained_wake_(destination.get_executor()) {}

link::~link() = default;

void link::chunk_queue::pop_front() {
  ++head_;
  if (head_ == items_.size()) {
    items_.clear();
    head_ = 0;
  } else if (head_ >= 64 && head_ * 2 >= items_.size()) {  // a queue that never empties stays bounded
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

namespace {

std::shared_ptr<const toxic> behaviour_of(const installed_toxic& t) {
  auto b = std::dynamic_pointer_cast<const toxic>(t.config);
  if (!b) throw std::logic_error("toxic '" + t.name + "' has no byte-level behaviour");  // proxy checks before
  return b;
}

}  // namespace

void link::add(const installed_toxic& t) {
  if (stopped_) return;
  auto s = std::make_unique<stage>();
  s->id = t.id;
  s->behaviour = behaviour_of(t);
  s->counters = t.counters;
  s->state = s->behaviour->new_state();
  s->active = roll_toxicity(t.toxicity, owner_.random());
  t.counters->links_total.fetch_add(1, relaxed);
  if (s->active) t.counters->links_affected_total.fetch_add(1, relaxed);
  auto& ref = *s;
  stages_.push_back(std::move(s));
  if (ref.active) {
    port p(*this, ref);
    ref.behaviour->on_start(ref.state.get(), p);
  }
  pump();
}

void link::flush(stage& s, std::size_t next) {
  const auto now = clock_.now();
  auto pending = std::move(s.out);
  s.out.clear();
  for (auto& item : pending) {
    queued_ -= item.item.size();
    item.item.stamp = now;
    deliver(next, std::move(item.item));
  }
  // A close that is due goes after the flushed bytes; a future one dies with the settings that
  // set it. A stage that dropped bytes and stops acting must not leave a hole in a live stream.
  const bool close_due = s.close_due && *s.close_due <= now;
  s.close_due.reset();
  s.reset_due.reset();
  if (close_due) {
    if (s.active) s.counters->connections_closed_total.fetch_add(1, relaxed);
    deliver(next, chunk::close_request(now));
  }
}

void link::update(const installed_toxic& t) {
  if (stopped_) return;
  auto it = std::find_if(stages_.begin(), stages_.end(), [&](const auto& s) { return s->id == t.id; });
  if (it == stages_.end()) return;
  auto& s = **it;
  const auto index = static_cast<std::size_t>(it - stages_.begin());
  flush(s, index + 1);
  const bool was_active = s.active;
  s.behaviour = behaviour_of(t);
  s.counters = t.counters;
  s.active = roll_toxicity(t.toxicity, owner_.random());
  if (s.active && !was_active) t.counters->links_affected_total.fetch_add(1, relaxed);
  if (!s.active && s.lost) {
    s.lost = false;
    deliver(index + 1, chunk::close_request(clock_.now()));
  }
  if (s.active) {
    port p(*this, s);
    s.behaviour->on_start(s.state.get(), p);
  }
  pump();
}

void link::remove(std::uint64_t id) {
  if (stopped_) return;
  auto it = std::find_if(stages_.begin(), stages_.end(), [&](const auto& s) { return s->id == id; });
  if (it == stages_.end()) return;
  auto owned = std::move(*it);
  const auto index = static_cast<std::size_t>(it - stages_.begin());
  stages_.erase(it);  // `index` now names the stage after it (or the writer)
  auto& s = *owned;
  if (s.active) {
    port p(*this, s);
    s.behaviour->on_stop(s.state.get(), p);
  }
  const bool hole = s.lost && !(s.close_due && *s.close_due <= clock_.now());
  flush(s, index);
  if (hole) deliver(index, chunk::close_request(clock_.now()));
  pump();
  release_space();
}

void link::accept(chunk c) {
  if (stopped_) return;
  deliver(0, std::move(c));
  pump();
}

void link::deliver(std::size_t index, chunk c) {
  if (index >= stages_.size()) {
    to_writer(std::move(c));
    return;
  }
  auto& s = *stages_[index];
  port p(*this, s);
  if (c.what == chunk::kind::close || !s.active) {
    const auto at = c.stamp;
    p.pass(std::move(c), at);
    return;
  }
  if (c.what == chunk::kind::data) {
    s.counters->chunks_in_total.fetch_add(1, relaxed);
    s.counters->bytes_in_total.fetch_add(c.size(), relaxed);
    s.behaviour->on_data(std::move(c), s.state.get(), p);
  } else {
    s.behaviour->on_eof(std::move(c), s.state.get(), p);
  }
}

void link::to_writer(chunk c) {
  if (direct_ && c.what == chunk::kind::data && writer_queue_.empty() && !writing_ && !writer_running_) {
    // Nothing is ahead of these bytes: send them now, in the handler that produced them, instead
    // of waking a writer (one send instead of a wake-up, a resumption and a send). What does not
    // fit waits for the writer; an error is left to it too, so it is reported in one place.
    const asio::const_buffer bytes(c.bytes.data(), c.size());
    const auto n = std::get<1>(direct_->write_now({&bytes, 1}));
    if (n > 0) {
      if (counters_) counters_->bytes_sent_total.fetch_add(n, relaxed);
      if (n == c.size()) {
        recycle_buffer(std::move(c.bytes));
        release_space();
        return;
      }
    }
    front_sent_ = n;  // the writer sends the rest
  }
  queued_ += c.size() - front_sent_;
  writer_queue_.push_back(std::move(c));
  if (!writer_running_) {
    writer_running_ = true;
    owner_.start_writer(direction_);
  }
}

void link::pump() {
  const auto now = clock_.now();
  for (std::size_t i = 0; i < stages_.size() && !stopped_; ++i) {
    auto& s = *stages_[i];
    if (s.reset_due && *s.reset_due <= now) {
      s.reset_due.reset();
      if (s.active) s.counters->connections_reset_total.fetch_add(1, relaxed);
      owner_.reset_connection();
      return;
    }
    while (!s.out.empty() && s.out.front().at <= now) {
      auto item = std::move(s.out.front());
      s.out.pop_front();
      queued_ -= item.item.size();
      item.item.stamp = item.at;  // measured from when it was due, so late wake-ups do not add up
      deliver(i + 1, std::move(item.item));
    }
    if (s.close_due && *s.close_due <= now && s.out.empty()) {
      s.close_due.reset();
      if (s.active) s.counters->connections_closed_total.fetch_add(1, relaxed);
      deliver(i + 1, chunk::close_request(now));
    }
  }
  owner_.reschedule();
}

std::optional<time_point> link::next_due() const {
  std::optional<time_point> next;
  auto consider = [&](time_point t) {
    if (t != time_point::max() && (!next || t < *next)) next = t;
  };
  for (const auto& s : stages_) {
    if (!s->out.empty()) consider(s->out.front().at);
    else if (s->close_due) consider(*s->close_due);
    if (s->reset_due) consider(*s->reset_due);
  }
  return next;
}

void link::pause_reader(bool paused) {
  reader_paused_ = paused;
  release_space();
}

void link::release_space() {
  if (reader_waiting_ && !over_limit()) space_wake_.notify();
}

asio::awaitable<void> link::wait_for_space() {
  while (over_limit() && !stopped_) {
    reader_waiting_ = true;
    co_await space_wake_.wait();
    reader_waiting_ = false;
  }
}

asio::awaitable<void> link::wait_until_drained() {
  // Close requests carry no bytes, so the queue, not queued_, says whether the writer is done.
  while ((!writer_queue_.empty() || writing_) && !stopped_) {
    drain_waiting_ = true;
    co_await drained_wake_.wait();
    drain_waiting_ = false;
  }
}

void link::stop() {
  if (stopped_) return;
  stopped_ = true;
  space_wake_.notify();
  drained_wake_.notify();
}

asio::awaitable<void> link::write_loop() {
  std::vector<chunk> batch;
  std::vector<asio::const_buffer> buffers;
  while (!writer_queue_.empty() && !stopped_) {
    // Consecutive data chunks go out in one gathered write.
    batch.clear();
    buffers.clear();
    std::size_t bytes = 0;
    while (!writer_queue_.empty() && writer_queue_.front().what == chunk::kind::data && bytes < max_write_batch) {
      auto& c = writer_queue_.front();
      const auto skip = batch.empty() ? std::exchange(front_sent_, 0) : 0;  // sent already by to_writer
      bytes += c.size() - skip;
      buffers.emplace_back(c.bytes.data() + skip, c.size() - skip);
      batch.push_back(std::move(c));  // the bytes stay where the buffer points: vectors move without copying
      writer_queue_.pop_front();
    }
    if (!batch.empty()) {
      writing_ = true;
      auto [ec, written] = co_await destination_.write(buffers);
      writing_ = false;
      queued_ -= bytes;
      for (auto& c : batch) recycle_buffer(std::move(c.bytes));
      if (counters_) counters_->bytes_sent_total.fetch_add(written, relaxed);
      release_space();
      if (stopped_) co_return;
      if (ec) {
        owner_.link_failed(direction_, ec);
        co_return;
      }
      continue;
    }

    auto item = std::move(writer_queue_.front());
    writer_queue_.pop_front();
    if (item.what == chunk::kind::eof) {
      if (!finished_) {
        finished_ = true;
        destination_.shutdown_send();
        owner_.link_finished(direction_);
      }
    } else {
      owner_.close_connection();
      co_return;
    }
  }
  // Ends here with nothing left (no suspension since the check): the next bytes start a writer.
  writer_running_ = false;
  if (drain_waiting_) drained_wake_.notify();
}

}  // namespace faultline::proxy
