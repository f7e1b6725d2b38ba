#pragma once
// One proxied connection: the client and server streams, the session chosen by the proxy's
// protocol, and two links (upstream: client -> server, downstream: server -> client), each fed
// by a reader and emptied by a writer. Everything of one connection runs on its stream's
// executor (one thread), so control changes arrive as posted calls and need no locks.
// A FIN in one direction is passed on as a FIN and the other direction goes on (half-close).
// An idle TCP connection holds no coroutine and no buffer, only a readiness wait per socket:
// small messages are read, passed through the session and the link, and sent in the handler of
// that wait; a reader coroutine runs only for bulk transfers and back-pressure, a writer only
// while bytes wait for the far side.

#include "faults/proxy/byte_stream.hpp"
#include "faults/proxy/link.hpp"
#include "faults/proxy/protocol.hpp"
#include "faults/proxy/time.hpp"

#include <boost/asio/awaitable.hpp>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <vector>

namespace faultline::proxy {

class connection final : public std::enable_shared_from_this<connection>, private link::owner, private session_io {
public:
  struct settings {
    std::shared_ptr<clock> time;
    std::size_t buffer_limit = default_buffer_limit;  // bytes in flight per direction before reading pauses
    std::size_t read_size = 64u << 10;
    // After a read filled its buffer (bulk): one read, one chunk, one release and one write per
    // this many bytes instead of per read_size, capped by the room left under buffer_limit.
    std::size_t bulk_read_size = 256u << 10;
    std::uint64_t seed = 0;
    direction_counters* upstream_counters = nullptr;
    direction_counters* downstream_counters = nullptr;
    // Move bytes with splice(2), without copying them through the process, while a direction
    // has no toxic and the session forwards bytes untouched (TCP streams only).
    bool zero_copy = true;
    // A timer wake-up of a thread that slept for a while comes 50-100 us late (an idle CPU, a
    // halted virtual CPU). A release due after a wait longer than wake_early_after wakes the
    // thread this much early, and it finishes the wait by polling (its other work goes on), up
    // to 10 % of the thread's time.
    // Zero: never (a clock that does not run by itself, as tests' manual clocks, must not be
    // polled).
    duration wake_early{};
    duration wake_early_after = std::chrono::milliseconds(1);
  };

  connection(std::unique_ptr<byte_stream> client, std::unique_ptr<byte_stream> server, std::unique_ptr<session> s,
             settings options);
  ~connection();

  // All of the following must run on executor().
  void start(const std::vector<installed_toxic>& toxics, std::shared_ptr<const message_toxic_list> message_toxics,
             std::function<void()> on_finished);
  void add_toxic(const installed_toxic& t);
  void update_toxic(const installed_toxic& t);
  void remove_toxic(std::uint64_t id, direction d);
  void set_message_toxics(std::shared_ptr<const message_toxic_list> list);
  void close();  // FIN to both sides
  void reset();  // RST to both sides

  bool done() const { return done_; }
  boost::asio::any_io_executor executor() const { return executor_; }
  const link& link_of(direction d) const { return d == direction::upstream ? *upstream_ : *downstream_; }

private:
  static constexpr std::size_t first_bytes_size = 256;  // a small message fits: an HTTP request, a query
  struct timer {
    time_point at;
    std::uint64_t order;
    std::function<void(session_io&)> fn;
    bool operator>(const timer& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  // bulk: a read just filled its buffer, or the link was over its limit when data came.
  static boost::asio::awaitable<void> read_loop(std::shared_ptr<connection> self, direction d, bool bulk);
  static boost::asio::awaitable<void> write_loop(std::shared_ptr<connection> self, direction d);
  // Splices bytes from one socket to the other until the source has nothing more to read, a
  // toxic joins, or the stream ends; returns the error that ended it (would_block: idle).
  static boost::asio::awaitable<boost::system::error_code> splice_burst(std::shared_ptr<connection> self, direction d);
  bool can_splice(direction d, bool bulk_only);
  link& link_for(direction d) { return d == direction::upstream ? *upstream_ : *downstream_; }
  tcp_stream* tcp_source(direction d) const { return d == direction::upstream ? client_tcp_ : server_tcp_; }
  std::array<char, first_bytes_size>& first_bytes(direction d) { return first_bytes_[d == direction::upstream ? 0 : 1]; }
  // A TCP source: reads its next bytes into first_bytes_ without a coroutine. A read, not a
  // readiness wait: Asio re-arms epoll (one epoll_ctl) for every async_wait; a read costs a
  // receive that finds nothing instead, and measured a little faster (docs/benchmarks.md). An
  // idle connection holds no buffer but first_bytes_.
  void arm_reader(direction d);
  void on_readable(direction d, boost::system::error_code ec, std::size_t n);
  void spawn_reader(direction d, bool bulk);
  // Passes on what one read brought: n bytes of `buffer` (handed over when big, else copied), or
  // the end of the stream or an error. False when this direction reads no more.
  bool take_read(direction d, boost::system::error_code ec, byte_buffer& buffer, std::size_t n);
  void on_alarm();
  std::optional<time_point> next_due() const;
  void finish(bool abortive);
  void tell_session_toxics();

  // link::owner
  void close_connection() override { close(); }
  void reset_connection() override { reset(); }
  void link_finished(direction d) override;
  void link_failed(direction d, boost::system::error_code ec) override;
  void reschedule() override;
  void start_writer(direction d) override;

  // session_io
  time_point now() const override { return settings_.time->now(); }
  void forward(direction d, chunk c) override;
  void end(direction d) override;
  void call_at(time_point at, std::function<void(session_io&)> fn) override;
  const message_toxic_list& message_toxics() const override { return *message_toxics_; }
  // Built on first use: its 2.5 KB of state would be most of an idle connection's memory.
  std::mt19937_64& random() override {
    if (!random_) random_ = std::make_unique<std::mt19937_64>(settings_.seed);
    return *random_;
  }
  void pause_reading(direction d, bool paused) override;

  boost::asio::any_io_executor executor_;
  settings settings_;
  std::unique_ptr<byte_stream> client_;
  std::unique_ptr<byte_stream> server_;
  std::unique_ptr<session> session_;
  tcp_stream* client_tcp_;  // the streams again when they are TCP (readable without a coroutine)
  tcp_stream* server_tcp_;
  std::unique_ptr<std::mt19937_64> random_;
  std::unique_ptr<link> upstream_;
  std::unique_ptr<link> downstream_;
  std::unique_ptr<alarm> alarm_;  // made when something is first scheduled
  std::optional<time_point> armed_;
  std::priority_queue<timer, std::vector<timer>, std::greater<>> timers_;
  std::uint64_t timer_order_ = 0;
  std::shared_ptr<const message_toxic_list> message_toxics_;
  std::function<void()> on_finished_;
  bool started_ = false;
  bool done_ = false;
  std::array<std::array<char, first_bytes_size>, 2> first_bytes_;  // per direction: arm_reader's read
  bool early_ = false;    // the alarm is set wake_early before the release it is for
  bool polling_ = false;  // a poll for a release due within wake_early is posted
};

}  // namespace faultline::proxy
