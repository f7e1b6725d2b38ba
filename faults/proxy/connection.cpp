#include "faults/proxy/connection.hpp"

#include "faults/proxy/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <tuple>
#include <utility>

namespace faultline::proxy {
namespace asio = boost::asio;

namespace {
// Connections alive in this process, over all proxies and threads.
std::atomic<std::size_t> live_connections{0};
// Connections started and not yet finished on this thread (start and finish run on its executor).
thread_local std::size_t connections_here = 0;

// Polling for early-woken releases may take at most 10 ms of each 100 ms of a thread, charged
// 100 us (the whole early wake) each: many connections with sparse releases on one thread
// must not keep it busy; past the budget releases wait for their timer as before.
struct poll_budget {
  time_point window{};
  duration charged{};
};
thread_local poll_budget poll_budget_here;

bool take_poll_budget(time_point now, duration cost) {
  auto& b = poll_budget_here;
  if (now - b.window >= std::chrono::milliseconds(100)) b = {now, {}};
  if (b.charged + cost > std::chrono::milliseconds(10)) return false;
  b.charged += cost;
  return true;
}
}  // namespace

connection::connection(std::unique_ptr<byte_stream> client, std::unique_ptr<byte_stream> server, std::unique_ptr<session> s,
                       settings options)
    : executor_(client->get_executor()),
      settings_(std::move(options)),
      client_(std::move(client)),
      server_(std::move(server)),
      session_(std::move(s)),
      client_tcp_(dynamic_cast<tcp_stream*>(client_.get())),
      server_tcp_(dynamic_cast<tcp_stream*>(server_.get())),
      message_toxics_(std::make_shared<message_toxic_list>()) {
  link::owner& me = *this;
  upstream_ = std::make_unique<link>(direction::upstream, *server_, *settings_.time, me, settings_.buffer_limit,
                                     settings_.upstream_counters);
  downstream_ = std::make_unique<link>(direction::downstream, *client_, *settings_.time, me, settings_.buffer_limit,
                                       settings_.downstream_counters);
  live_connections.fetch_add(1, std::memory_order_relaxed);
}

connection::~connection() {
  // malloc keeps what connections freed (frames, buffers of bulk transfers in flight) in its
  // arenas; without a trim RSS stays at its peak after thousands of connections close.
  if (live_connections.fetch_sub(1, std::memory_order_relaxed) == 1) ::malloc_trim(0);
}

void connection::start(const std::vector<installed_toxic>& toxics, std::shared_ptr<const message_toxic_list> message_toxics,
                       std::function<void()> on_finished) {
  on_finished_ = std::move(on_finished);
  if (message_toxics) message_toxics_ = std::move(message_toxics);
  for (const auto& t : toxics) link_for(t.stream).add(t);
  started_ = true;
  ++connections_here;
  for (auto d : {direction::upstream, direction::downstream}) {
    if (tcp_source(d)) arm_reader(d);
    else spawn_reader(d, false);
  }
  tell_session_toxics();
}

void connection::spawn_reader(direction d, bool bulk) {
  asio::co_spawn(executor_, read_loop(shared_from_this(), d, bulk),
                 log_stray_exception(proxy_log(), std::string("proxy reader ") + to_string(d)));
}

void connection::start_writer(direction d) {
  if (done_) return;
  asio::co_spawn(executor_, write_loop(shared_from_this(), d),
                 log_stray_exception(proxy_log(), std::string("proxy writer ") + to_string(d)));
}

void connection::arm_reader(direction d) {
  auto& first = first_bytes(d);
  tcp_source(d)->socket().async_read_some(asio::buffer(first), [self = shared_from_this(), d](boost::system::error_code ec, std::size_t n) {
    self->on_readable(d, ec, n);
  });
}

void connection::on_readable(direction d, boost::system::error_code ec, std::size_t n) {
  if (done_) return;
  const auto& first = first_bytes(d);
  byte_buffer buffer;
  boost::system::error_code then;  // met reading on past the first bytes: passed on after them
  bool bulk = false;
  if (!ec && n == first.size()) {  // more may be waiting
    buffer = take_buffer(settings_.read_size);
    std::memcpy(buffer.data(), first.data(), n);
    auto [more_ec, more] = tcp_source(d)->read_now(asio::buffer(buffer.data() + n, buffer.size() - n));
    if (!more_ec) n += more;
    else if (more_ec != asio::error::would_block && more_ec != asio::error::try_again) then = more_ec;
    bulk = n == buffer.size();
  } else if (!ec) {
    buffer.assign(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (!take_read(d, ec, buffer, n)) return;
  if (then) {
    take_read(d, then, buffer, 0);
    return;
  }
  recycle_buffer(std::move(buffer));
  // More is waiting, or the link is full: the coroutine reads on (bigger buffers, splice, or
  // after waiting for room).
  if (bulk || link_for(d).over_limit()) spawn_reader(d, true);
  else arm_reader(d);
}

bool connection::take_read(direction d, boost::system::error_code ec, byte_buffer& buffer, std::size_t n) {
  if (done_) return false;
  if (ec) {
    if (ec == asio::error::eof) {
      session_->on_eof(d, *this);
    } else if (ec != asio::error::operation_aborted) {
      // The sender reset or failed: the other side learns it the same way.
      proxy_log()->debug("{} read failed: {}", to_string(d), ec.message());
      reset();
    }
    return false;
  }
  auto* counters = d == direction::upstream ? settings_.upstream_counters : settings_.downstream_counters;
  if (counters) counters->bytes_received_total.fetch_add(n, std::memory_order_relaxed);
  chunk c;
  c.stamp = now();
  if (n >= buffer.size() / 4) {  // big reads hand the buffer over, small ones are copied out
    buffer.resize(n);
    c.bytes = std::exchange(buffer, byte_buffer());
  } else {
    c.bytes.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  try {
    session_->on_data(d, std::move(c), *this);
  } catch (const std::exception& e) {
    proxy_log()->error("{} session failed: {}; resetting the connection", to_string(d), e.what());
    reset();
    return false;
  }
  return !done_;
}

void connection::add_toxic(const installed_toxic& t) {
  if (!done_) link_for(t.stream).add(t);
}

void connection::update_toxic(const installed_toxic& t) {
  if (!done_) link_for(t.stream).update(t);
}

void connection::remove_toxic(std::uint64_t id, direction d) {
  if (!done_) link_for(d).remove(id);
}

void connection::set_message_toxics(std::shared_ptr<const message_toxic_list> list) {
  message_toxics_ = std::move(list);
  tell_session_toxics();
}

void connection::tell_session_toxics() {
  if (done_) return;
  try {
    session_->on_message_toxics(*this);
  } catch (const std::exception& e) {
    proxy_log()->error("session failed on a toxic change: {}; resetting the connection", e.what());
    reset();
  }
}

void connection::pause_reading(direction d, bool paused) {
  if (!done_) link_for(d).pause_reader(paused);
}

asio::awaitable<void> connection::read_loop(std::shared_ptr<connection> self, direction d, bool bulk) {
  auto& source = d == direction::upstream ? *self->client_ : *self->server_;
  auto* tcp = self->tcp_source(d);
  auto& l = self->link_for(d);
  const auto read_size = self->settings_.read_size;
  byte_buffer buffer;         // held only while data keeps coming
  bool more_likely = bulk;    // the last read filled the buffer
  std::size_t last_read = bulk ? read_size : 0;  // small reads mean small messages: no zero-copy attempt
  for (;;) {
    co_await l.wait_for_space();
    if (self->done_) co_return;
    boost::system::error_code ec;
    if (!more_likely) {
      if (tcp) {  // the bulk is over: wait without a coroutine frame or a buffer
        recycle_buffer(std::move(buffer));
        self->arm_reader(d);
        co_return;
      }
      ec = co_await source.wait_readable();
    }
    if (self->done_) co_return;
    if (!ec && last_read >= 16 * 1024 && self->can_splice(d, true)) {  // bulk: worth a pipe
      co_await l.wait_until_drained();         // bytes copied before go out first
      if (self->done_) co_return;
      if (self->can_splice(d, false)) ec = co_await splice_burst(self, d);
      else continue;
      if (self->done_) co_return;
      if (ec == asio::error::would_block || ec == asio::error::try_again) {  // small messages again
        more_likely = false;
        last_read = 0;
        continue;
      }
      if (!ec) continue;  // a toxic joined: go on through the link
    }
    std::size_t n = 0;
    if (!ec) {
      if (buffer.empty()) {
        const auto room = self->settings_.buffer_limit > l.queued_bytes() ? self->settings_.buffer_limit - l.queued_bytes() : 0;
        buffer = take_buffer(more_likely ? std::clamp(room, read_size, std::max(read_size, self->settings_.bulk_read_size)) : read_size);
      }
      std::tie(ec, n) = co_await source.read_some(asio::buffer(buffer.data(), buffer.size()));
    }
    if (self->done_) co_return;
    more_likely = !ec && n == buffer.size();
    last_read = n;
    if (!self->take_read(d, ec, buffer, n)) co_return;
    if (!more_likely && !buffer.empty()) recycle_buffer(std::exchange(buffer, byte_buffer()));
  }
}

// bulk_only: only when a bulk transfer is waiting (16 KiB or more readable); small messages are
// cheaper to copy than to move through a pipe.
bool connection::can_splice(direction d, bool bulk_only) {
  auto& l = link_for(d);
  if (!settings_.zero_copy || !session_->forwards_untouched() || !message_toxics_->empty() || l.stage_count() > 0 ||
      l.stopped())
    return false;
  auto* from = dynamic_cast<tcp_stream*>(d == direction::upstream ? client_.get() : server_.get());
  auto* to = dynamic_cast<tcp_stream*>(d == direction::upstream ? server_.get() : client_.get());
  if (!from || !to) return false;
  if (!bulk_only) return l.idle();
  boost::system::error_code ec;
  return from->socket().available(ec) >= 16 * 1024 && !ec;
}

namespace {

// One kernel pipe between two sockets, open only while a burst lasts.
struct kernel_pipe {
  int read_end = -1;
  int write_end = -1;
  kernel_pipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
      read_end = fds[0];
      write_end = fds[1];
      // Bigger bursts, fewer calls; the kernel may refuse (pipe-user-pages limits): 64 KiB then.
      ::fcntl(write_end, F_SETPIPE_SZ, 512 * 1024);
    }
  }
  ~kernel_pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  kernel_pipe(const kernel_pipe&) = delete;
  kernel_pipe& operator=(const kernel_pipe&) = delete;
};

boost::system::error_code last_error() { return {errno, boost::system::system_category()}; }

}  // namespace

asio::awaitable<boost::system::error_code> connection::splice_burst(std::shared_ptr<connection> self, direction d) {
  auto& from = static_cast<tcp_stream&>(d == direction::upstream ? *self->client_ : *self->server_).socket();
  auto& to = static_cast<tcp_stream&>(d == direction::upstream ? *self->server_ : *self->client_).socket();
  auto* counters = d == direction::upstream ? self->settings_.upstream_counters : self->settings_.downstream_counters;
  boost::system::error_code ec;
  from.native_non_blocking(true, ec);
  if (!ec) to.native_non_blocking(true, ec);
  kernel_pipe pipe;
  if (ec || pipe.read_end < 0) co_return boost::system::error_code{};  // fall back to copying
  constexpr std::size_t burst = 512u * 1024;
  for (;;) {
    auto in = ::splice(from.native_handle(), nullptr, pipe.write_end, nullptr, burst, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (in == 0) co_return boost::system::error_code(asio::error::eof);
    if (in < 0) {
      auto e = last_error();
      if (e == asio::error::interrupted) continue;
      if (e != asio::error::would_block && e != asio::error::try_again) co_return e;
      // Drained. Keep the pipe while the bulk goes on; small messages go back to copying.
      auto [rec] = co_await from.async_wait(asio::ip::tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
      if (self->done_) co_return boost::system::error_code(asio::error::operation_aborted);
      if (rec) co_return rec;
      if (!self->can_splice(d, true) && from.available(rec) > 0) co_return boost::system::error_code(asio::error::would_block);
      continue;
    }
    if (counters) counters->bytes_received_total.fetch_add(static_cast<std::uint64_t>(in), std::memory_order_relaxed);
    // Everything read goes out before anything else happens on this direction.
    for (auto pending = static_cast<std::size_t>(in); pending > 0;) {
      auto out = ::splice(pipe.read_end, nullptr, to.native_handle(), nullptr, pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (out > 0) {
        pending -= static_cast<std::size_t>(out);
        if (counters) {
          counters->bytes_sent_total.fetch_add(static_cast<std::uint64_t>(out), std::memory_order_relaxed);
          counters->bytes_spliced_total.fetch_add(static_cast<std::uint64_t>(out), std::memory_order_relaxed);
        }
        continue;
      }
      auto e = last_error();
      if (e == asio::error::interrupted) continue;
      if (e != asio::error::would_block && e != asio::error::try_again) co_return e;
      auto [wec] = co_await to.async_wait(asio::ip::tcp::socket::wait_write, asio::as_tuple(asio::use_awaitable));
      if (self->done_) co_return boost::system::error_code(asio::error::operation_aborted);
      if (wec) co_return wec;
    }
    // splice() does not wait, so without this a steady bulk would never let the thread's other
    // connections, or a posted toxic change for this one, run.
    co_await asio::post(from.get_executor(), asio::use_awaitable);
    if (self->done_) co_return boost::system::error_code(asio::error::operation_aborted);
    if (!self->can_splice(d, false)) co_return boost::system::error_code{};  // a toxic joined meanwhile
  }
}

asio::awaitable<void> connection::write_loop(std::shared_ptr<connection> self, direction d) {
  co_await self->link_for(d).write_loop();
}

void connection::forward(direction d, chunk c) {
  if (!done_) link_for(d).accept(std::move(c));
}

void connection::end(direction d) {
  if (!done_) link_for(d).accept(chunk::end_of_stream(now()));
}

void connection::call_at(time_point at, std::function<void(session_io&)> fn) {
  timers_.push({at, timer_order_++, std::move(fn)});
  reschedule();
}

std::optional<time_point> connection::next_due() const {
  std::optional<time_point> next;
  for (auto candidate : {upstream_->next_due(), downstream_->next_due()})
    if (candidate && (!next || *candidate < *next)) next = candidate;
  if (!timers_.empty() && (!next || timers_.top().at < *next)) next = timers_.top().at;
  return next;
}

void connection::reschedule() {
  if (done_ || polling_) return;  // a poll re-checks after every pass
  auto next = next_due();
  if (next == armed_) return;
  armed_ = next;
  if (!next) {
    if (alarm_) alarm_->cancel();
    return;
  }
  auto at = *next;
  const auto t = now();
  early_ = settings_.wake_early.count() > 0 && at - t > settings_.wake_early_after && take_poll_budget(t, settings_.wake_early);
  if (early_) at -= settings_.wake_early;
  if (!alarm_) alarm_ = settings_.time->make_alarm(executor_);
  alarm_->set(at, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_alarm();
  });
}

void connection::on_alarm() {
  armed_.reset();
  const bool early = early_ || polling_;  // woken early for a release, or polling for it
  early_ = polling_ = false;
  if (done_) return;
  const auto t = now();
  while (!timers_.empty() && timers_.top().at <= t && !done_) {
    auto fn = timers_.top().fn;
    timers_.pop();
    fn(*this);
  }
  if (!done_) upstream_->pump();
  if (!done_) downstream_->pump();
  if (done_) return;
  // Woken early: poll until the release is due. A posted call lets the thread serve its other
  // sockets between two polls.
  if (auto next = next_due(); early && next && *next - now() <= settings_.wake_early) {
    if (alarm_) alarm_->cancel();  // the poll replaces whatever the pass above armed
    armed_.reset();
    early_ = false;
    polling_ = true;
    asio::post(executor_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->on_alarm();
    });
    return;
  }
  reschedule();
}

void connection::link_finished(direction) {
  if (upstream_->finished() && downstream_->finished()) close();
}

void connection::link_failed(direction d, boost::system::error_code ec) {
  if (done_) return;
  proxy_log()->debug("{} write failed: {}", to_string(d), ec.message());
  reset();
}

void connection::close() { finish(false); }
void connection::reset() { finish(true); }

void connection::finish(bool abortive) {
  if (done_) return;
  done_ = true;
  if (abortive) {
    client_->reset();
    server_->reset();
  } else {
    client_->close();
    server_->close();
  }
  upstream_->stop();
  downstream_->stop();
  if (alarm_) alarm_->cancel();
  armed_.reset();
  timers_ = {};
  // The thread's spare read buffers are for its live transfers; none left, none kept.
  if (started_ && --connections_here == 0) release_spare_buffers();
  if (auto notify = std::move(on_finished_)) notify();
}

}  // namespace faultline::proxy
