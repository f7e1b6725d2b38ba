#include "faults/proxy/connection.hpp"

#include "faults/proxy/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>

#include <tuple>
#include <utility>

namespace faultline::proxy {
namespace asio = boost::asio;

connection::connection(std::unique_ptr<byte_stream> client, std::unique_ptr<byte_stream> server, std::unique_ptr<session> s,
                       settings options)
    : executor_(client->get_executor()),
      settings_(std::move(options)),
      client_(std::move(client)),
      server_(std::move(server)),
      session_(std::move(s)),
      random_(settings_.seed),
      message_toxics_(std::make_shared<message_toxic_list>()) {
  link::owner& me = *this;
  upstream_ = std::make_unique<link>(direction::upstream, *server_, *settings_.time, random_, me, settings_.buffer_limit,
                                     settings_.upstream_counters);
  downstream_ = std::make_unique<link>(direction::downstream, *client_, *settings_.time, random_, me, settings_.buffer_limit,
                                       settings_.downstream_counters);
  alarm_ = settings_.time->make_alarm(executor_);
}

connection::~connection() = default;

void connection::start(const std::vector<toxic_entry>& toxics, std::shared_ptr<const message_toxic_list> message_toxics,
                       std::function<void()> on_finished) {
  on_finished_ = std::move(on_finished);
  if (message_toxics) message_toxics_ = std::move(message_toxics);
  for (const auto& t : toxics) link_for(t.stream).add(t);
  auto self = shared_from_this();
  for (auto d : {direction::upstream, direction::downstream}) {
    asio::co_spawn(executor_, read_loop(self, d), log_exception(std::string("proxy reader ") + to_string(d)));
    asio::co_spawn(executor_, write_loop(self, d), log_exception(std::string("proxy writer ") + to_string(d)));
  }
}

void connection::add_toxic(const toxic_entry& t) {
  if (!done_) link_for(t.stream).add(t);
}

void connection::update_toxic(const toxic_entry& t) {
  if (!done_) link_for(t.stream).update(t);
}

void connection::remove_toxic(std::uint64_t id, direction d) {
  if (!done_) link_for(d).remove(id);
}

void connection::set_message_toxics(std::shared_ptr<const message_toxic_list> list) { message_toxics_ = std::move(list); }

asio::awaitable<void> connection::read_loop(std::shared_ptr<connection> self, direction d) {
  auto& source = d == direction::upstream ? *self->client_ : *self->server_;
  auto& l = self->link_for(d);
  auto* counters = d == direction::upstream ? self->settings_.upstream_counters : self->settings_.downstream_counters;
  const auto read_size = self->settings_.read_size;
  byte_buffer buffer;       // held only while data keeps coming
  bool more_likely = false;  // the last read filled the buffer
  for (;;) {
    co_await l.wait_for_space();
    if (self->done_) co_return;
    boost::system::error_code ec;
    if (!more_likely) ec = co_await source.wait_readable();
    std::size_t n = 0;
    if (!ec) {
      if (buffer.empty()) buffer = take_buffer(read_size);
      std::tie(ec, n) = co_await source.read_some(asio::buffer(buffer.data(), buffer.size()));
    }
    if (self->done_) co_return;
    if (ec) {
      if (ec == asio::error::eof) {
        self->session_->on_eof(d, *self);
      } else if (ec != asio::error::operation_aborted) {
        // The sender reset or failed: the other side learns it the same way.
        proxy_log()->debug("{} read failed: {}", to_string(d), ec.message());
        self->reset();
      }
      co_return;
    }
    if (counters) counters->bytes_received_total.fetch_add(n, std::memory_order_relaxed);
    more_likely = n == buffer.size();
    chunk c;
    c.stamp = self->now();
    if (n >= read_size / 4) {  // big reads hand the buffer over, small ones are copied out
      buffer.resize(n);
      c.bytes = std::move(buffer);
      buffer = byte_buffer();
    } else {
      c.bytes.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
      if (!more_likely) recycle_buffer(std::exchange(buffer, byte_buffer()));
    }
    try {
      self->session_->on_data(d, std::move(c), *self);
    } catch (const std::exception& e) {
      proxy_log()->error("{} session failed: {}; resetting the connection", to_string(d), e.what());
      self->reset();
      co_return;
    }
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

void connection::reschedule() {
  if (done_) return;
  std::optional<time_point> next;
  for (auto candidate : {upstream_->next_due(), downstream_->next_due()})
    if (candidate && (!next || *candidate < *next)) next = candidate;
  if (!timers_.empty() && (!next || timers_.top().at < *next)) next = timers_.top().at;
  if (next == armed_) return;
  armed_ = next;
  if (!next) {
    alarm_->cancel();
    return;
  }
  alarm_->set(*next, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_alarm();
  });
}

void connection::on_alarm() {
  armed_.reset();
  if (done_) return;
  const auto t = now();
  while (!timers_.empty() && timers_.top().at <= t && !done_) {
    auto fn = timers_.top().fn;
    timers_.pop();
    fn(*this);
  }
  if (!done_) upstream_->pump();
  if (!done_) downstream_->pump();
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
  alarm_->cancel();
  armed_.reset();
  timers_ = {};
  if (auto notify = std::move(on_finished_)) notify();
}

}  // namespace faultline::proxy
