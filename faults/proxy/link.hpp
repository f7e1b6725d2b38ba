#pragma once
// One direction of a proxied connection: the chain of toxic stages between what the session
// forwards and the writer to the far side. The link does what toxics must not each do: roll
// toxicity once per toxic and link, release chunks first in, first out at their times, count
// bytes in flight for back-pressure, and, when a toxic is removed or updated, hand every chunk
// it still scheduled to the next stage at once, so no byte is lost or reordered.

#include "faults/proxy/async_event.hpp"
#include "faults/proxy/byte_stream.hpp"
#include "faults/proxy/chunk.hpp"
#include "faults/proxy/time.hpp"
#include "faults/proxy/toxic.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace faultline::proxy {

// Bytes through one direction of a proxy, summed over its connections.
struct direction_counters {
  std::atomic<std::uint64_t> bytes_received_total{0};  // read from the sending side
  std::atomic<std::uint64_t> bytes_sent_total{0};      // written to the receiving side
  std::atomic<std::uint64_t> bytes_spliced_total{0};   // of those sent, moved by splice(2) uncopied
};

// Bytes in flight per connection direction before its reader pauses, counting what toxics hold
// for later. A latency toxic can move at most this much per latency (a TCP window's bound): 8 MiB
// capped a 10 ms latency at 0.84 GB/s, below direct loopback; 32 MiB allows 3.3 GB/s. Buffers
// are allocated only while data moves, so idle connections pay nothing.
constexpr std::size_t default_buffer_limit = 32u << 20;

class link {
public:
  // What a link asks of its connection.
  class owner {
  public:
    virtual void close_connection() = 0;  // a toxic closed it, after what came before
    virtual void reset_connection() = 0;  // a toxic reset it
    virtual void link_finished(direction d) = 0;  // the end of stream was delivered
    virtual void link_failed(direction d, boost::system::error_code ec) = 0;
    virtual void reschedule() = 0;  // a release time may have changed
    // Runs link::write_loop() on the connection's executor, keeping the connection alive.
    virtual void start_writer(direction d) = 0;
    virtual std::mt19937_64& random() = 0;  // rolls toxicity; toxics draw from it too

  protected:
    ~owner() = default;
  };

  link(direction d, byte_stream& destination, clock& time, owner& o, std::size_t buffer_limit, direction_counters* counters);
  ~link();
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  // A byte-level toxic (its config is a `toxic`), found again by its id.
  void add(const installed_toxic& t);     // appended to the end of the chain
  void update(const installed_toxic& t);  // new settings and toxicity; per-link state is kept
  void remove(std::uint64_t id);

  void accept(chunk c);  // enters the chain at its first stage
  void pump();           // releases whatever is due
  std::optional<time_point> next_due() const;

  bool over_limit() const { return queued_ >= limit_ || reader_paused_; }
  void pause_reader(bool paused);  // the session holds enough: the reader waits as if over the limit
  boost::asio::awaitable<void> wait_for_space();  // the reader's back-pressure
  boost::asio::awaitable<void> wait_until_drained();  // until the writer has nothing left to do
  // The writer: started by the link (owner::start_writer) when bytes must wait for the far side,
  // it ends when it has written everything, so an idle link holds no coroutine.
  boost::asio::awaitable<void> write_loop();
  void stop();

  std::size_t queued_bytes() const { return queued_; }
  std::size_t stage_count() const { return stages_.size(); }
  bool finished() const { return finished_; }
  bool stopped() const { return stopped_; }
  // Nothing scheduled, queued or being written: the connection may move bytes past the link.
  bool idle() const { return stages_.empty() && writer_queue_.empty() && !writing_ && !stopped_; }

private:
  struct stage;
  class port;

  // First in, first out; allocates nothing until used (std::deque allocates when constructed,
  // and every idle connection has two of these).
  class chunk_queue {
  public:
    bool empty() const { return head_ == items_.size(); }
    chunk& front() { return items_[head_]; }
    void push_back(chunk c) { items_.push_back(std::move(c)); }
    void pop_front();

  private:
    std::vector<chunk> items_;
    std::size_t head_ = 0;
  };

  void deliver(std::size_t index, chunk c);  // into stage `index`, or the writer past the end
  void to_writer(chunk c);
  void flush(stage& s, std::size_t next);    // everything `s` holds moves to stage `next`
  void release_space();

  direction direction_;
  byte_stream& destination_;
  tcp_stream* direct_;  // the destination when it can be written without waiting (TCP)
  clock& clock_;
  owner& owner_;
  std::size_t limit_;
  direction_counters* counters_;
  std::vector<std::unique_ptr<stage>> stages_;
  chunk_queue writer_queue_;
  std::size_t queued_ = 0;  // bytes in stages and the writer queue
  std::size_t front_sent_ = 0;  // bytes of the writer queue's first chunk that to_writer sent
  async_event space_wake_;
  async_event drained_wake_;
  bool drain_waiting_ = false;
  bool reader_waiting_ = false;
  bool reader_paused_ = false;
  bool writer_running_ = false;
  bool writing_ = false;
  bool stopped_ = false;
  bool finished_ = false;
};

}  // namespace faultline::proxy
