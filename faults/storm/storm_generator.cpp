#include "faults/storm/storm_generator.hpp"

#include "faults/storm/storm_log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <netinet/in.h>

#include <algorithm>
#include <stdexcept>

namespace faultline::storm {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// IP_BIND_ADDRESS_NO_PORT: bind() fixes the source address only; connect() picks the port for
// the full 4-tuple, so one source address serves every target port without running dry early.
class bind_address_no_port {
public:
  template <typename Protocol>
  int level(const Protocol&) const { return IPPROTO_IP; }
  template <typename Protocol>
  int name(const Protocol&) const { return IP_BIND_ADDRESS_NO_PORT; }
  template <typename Protocol>
  const void* data(const Protocol&) const { return &value_; }
  template <typename Protocol>
  std::size_t size(const Protocol&) const { return sizeof(value_); }

private:
  int value_ = 1;
};

// Launches in one go before yielding to the sessions already running.
constexpr std::int64_t launch_burst = 64;

}  // namespace

std::shared_ptr<storm_generator> storm_generator::create(asio::io_context& io, storm_config config) {
  return std::shared_ptr<storm_generator>(new storm_generator(io, std::move(config)));
}

storm_generator::storm_generator(asio::io_context& io, storm_config config)
    : io_(io),
      config_(std::move(config)),
      pace_(io),
      wake_(io),
      hold_(io),
      finished_signal_(io, asio::steady_timer::time_point::max()) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config_.address.empty() ? config_.host : config_.address, ec);
  if (ec) throw std::invalid_argument("storm target '" + config_.target() + "' has no numeric address");
  target_ = tcp::endpoint(address, config_.port);
  for (const auto& s : config_.source_addresses) {
    auto a = asio::ip::make_address(s, ec);
    if (ec) throw std::invalid_argument("source address '" + s + "' is not an IP address");
    if (a.is_v4() != address.is_v4())
      throw std::invalid_argument("source address " + s + " is not of the target's address family");
    sources_.push_back(a);
  }
}

storm_generator::~storm_generator() = default;

void storm_generator::start() {
  if (started_) return;
  started_ = true;
  started_at_ = clock::now();
  auto self = shared_from_this();
  asio::co_spawn(io_, [self]() -> awaitable<void> { co_await self->launch(); }, log_stray_exception(storm_log(), "storm launcher failed"));
  asio::co_spawn(io_, [self]() -> awaitable<void> { co_await self->watch_deadlines(); }, log_stray_exception(storm_log(), "storm watchdog failed"));
}

void storm_generator::stop() {
  if (stopping_) return;
  stopping_ = true;
  pace_.cancel();
  wake_.cancel();
  hold_.cancel();
  close_all(pending_);
  close_all(held_);
  if (!started_) launcher_done_ = true;
  maybe_finish();
}

void storm_generator::close_all(session_list& list) {
  // Cancelling only queues the sessions' completions, so the list is not changed under us.
  // Attempts in progress lose their socket outright: a completion already queued would otherwise
  // let the handshake start its next operation on a socket nobody watches any more.
  const bool attempts = &list == &pending_;
  for (auto& s : list) {
    s.closing = true;
    boost::system::error_code ignored;
    if (attempts) s.socket.close(ignored);
    else s.socket.cancel(ignored);
  }
}

awaitable<void> storm_generator::wait_finished() {
  // The signal's expiry stays at "never": re-arming here would cancel other waiters.
  while (!finished_) co_await finished_signal_.async_wait(use_tuple);
}

storm_report storm_generator::report() const {
  storm_report r;
  r.counts = counts_;
  r.connect_latency.merge(connect_latency_);
  r.handshake_latency.merge(handshake_latency_);
  const auto end = finished_ ? finished_at_ : clock::now();
  if (started_) r.elapsed = end - started_at_;
  if (!config_.churn && ramp_done_at_ != clock::time_point{}) r.ramp = ramp_done_at_ - started_at_;
  return r;
}

storm_generator::clock::duration storm_generator::watchdog_tick() const {
  auto shortest = std::chrono::duration_cast<clock::duration>(config_.timeout);
  if (config_.churn && config_.hold && config_.hold->count() > 0)
    shortest = std::min(shortest, std::chrono::duration_cast<clock::duration>(*config_.hold));
  return std::clamp<clock::duration>(shortest / 10, std::chrono::milliseconds(1), std::chrono::milliseconds(20));
}

awaitable<void> storm_generator::launch() {
  const bool paced = config_.rate > 0;
  const auto due_after = [this](std::int64_t n) {
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(static_cast<double>(n) / config_.rate));
  };
  auto base = clock::now();
  std::int64_t burst = 0;
  std::size_t source = 0;
  while (!stopping_) {
    if (!config_.churn && launched_ >= config_.connections) break;
    const bool full = (config_.churn && live_ >= config_.connections) || (!paced && pending_count_ >= config_.max_pending);
    if (full) {
      launcher_waiting_ = true;
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(use_tuple);
      launcher_waiting_ = false;
      // After waiting for a free slot, continue at the rate from now on instead of bursting.
      if (paced) base = std::max(base, clock::now() - due_after(launched_));
      burst = 0;
      continue;
    }
    if (paced) {
      const auto due = base + due_after(launched_);
      if (due > clock::now()) {
        pace_.expires_at(due);
        co_await pace_.async_wait(use_tuple);
        burst = 0;
        continue;
      }
    }
    spawn_session(source);
    if (!sources_.empty()) source = (source + 1) % sources_.size();
    if (++burst == launch_burst) {
      burst = 0;
      co_await asio::post(io_, asio::use_awaitable);
    }
  }
  launcher_done_ = true;
  maybe_finish();
}

awaitable<void> storm_generator::watch_deadlines() {
  asio::steady_timer tick(io_);
  const auto period = watchdog_tick();
  while (!finished_) {
    const auto now = clock::now();
    boost::system::error_code ignored;
    while (!pending_.empty() && pending_.front().deadline <= now) {
      auto& s = pending_.front();
      s.unlink();
      s.expired = true;
      s.socket.close(ignored);
    }
    while (config_.churn && !held_.empty() && held_.front().deadline <= now) {
      auto& s = held_.front();
      s.unlink();
      s.closing = true;
      s.socket.cancel(ignored);
    }
    tick.expires_after(period);
    co_await tick.async_wait(use_tuple);
  }
}

void storm_generator::spawn_session(std::size_t source) {
  ++launched_;
  ++live_;
  ++pending_count_;
  ++counts_.attempts;
  asio::co_spawn(io_, run_session(shared_from_this(), source), log_stray_exception(storm_log(), "storm connection failed unexpectedly"));
}

// `self` lives in the frame: the generator outlives every session.
awaitable<void> storm_generator::run_session([[maybe_unused]] std::shared_ptr<storm_generator> self,
                                             std::size_t source) {
  session s(io_);
  bool attempting = true;
  try {
    s.deadline = clock::now() + config_.timeout;
    pending_.push_back(s);
    auto outcome = co_await attempt(s, source);
    s.unlink();
    attempting = false;
    --pending_count_;
    if (launcher_waiting_) wake_.cancel();
    if (s.expired && outcome != connection_outcome::established) outcome = connection_outcome::timed_out;
    if (s.closing && !s.expired && outcome != connection_outcome::established) {
      ++counts_.cancelled;  // stopped while in progress: no class
    } else {
      ++counts_[outcome];
    }
    attempt_finished();
    if (outcome == connection_outcome::established) {
      ++counts_.opened;
      counts_.peak_held = std::max(counts_.peak_held, ++counts_.held);
      co_await hold(s);
    }
  } catch (const std::exception& e) {
    storm_log()->error("storm connection to {} failed unexpectedly: {}", config_.target(), e.what());
    if (attempting) {
      --pending_count_;
      ++counts_[connection_outcome::local_error];
      attempt_finished();
    }
  }
  --live_;
  if (launcher_waiting_) wake_.cancel();
  maybe_finish();
}

awaitable<connection_outcome> storm_generator::attempt(session& s, std::size_t source) {
  boost::system::error_code ec;
  s.socket.open(target_.protocol(), ec);
  if (!ec && !sources_.empty()) {
    s.socket.set_option(bind_address_no_port{}, ec);
    if (!ec) s.socket.bind(tcp::endpoint(sources_[source], 0), ec);
  }
  if (ec) {
    if (local_errors_logged_++ < 3)
      storm_log()->warn("storm: cannot open a connection to {}: {} (out of file descriptors or of ports? add "
                        "source addresses or workers)", config_.target(), ec.message());
    co_return connection_outcome::local_error;
  }
  const auto connect_start = clock::now();
  auto [cec] = co_await s.socket.async_connect(target_, use_tuple);
  if (cec) {
    const auto o = outcome_of(cec);
    if (o == connection_outcome::local_error && local_errors_logged_++ < 3)
      storm_log()->warn("storm: connect to {} failed locally: {} (out of ports? add source addresses)",
                        config_.target(), cec.message());
    co_return o;
  }
  const auto connected = clock::now();
  connect_latency_.record(connected - connect_start);
  s.socket.non_blocking(true, ec);
  if (ec) co_return connection_outcome::local_error;
  connection_outcome o = connection_outcome::established;
  switch (config_.handshake) {
    case handshake_kind::tcp: co_return connection_outcome::established;
    case handshake_kind::http: o = co_await http_handshake(s.socket, config_); break;
    case handshake_kind::postgres: o = co_await postgres_handshake(s.socket, config_); break;
    case handshake_kind::redis: o = co_await redis_handshake(s.socket); break;
    case handshake_kind::websocket:
      s.ws.emplace(s.socket);
      o = co_await websocket_handshake(*s.ws, config_);
      break;
  }
  if (o == connection_outcome::established) handshake_latency_.record(clock::now() - connected);
  co_return o;
}

awaitable<void> storm_generator::hold(session& s) {
  const bool churn_now = config_.churn && (!config_.hold || config_.hold->count() == 0);
  if (stopping_ || churn_now) s.closing = true;
  if (!s.closing) {
    if (config_.churn) s.deadline = clock::now() + *config_.hold;
    held_.push_back(s);
    while (!s.closing) {
      auto [ec] = co_await s.socket.async_wait(tcp::socket::wait_read, use_tuple);
      if (s.closing) break;
      std::optional<connection_outcome> dropped;
      if (ec) dropped = outcome_of(ec);
      else if (s.ws) dropped = co_await drain_held(*s.ws);
      else dropped = drain_held(s.socket);
      if (dropped && *dropped != connection_outcome::timed_out) {
        // The server ended a held connection: it no longer counts as established.
        s.unlink();
        --counts_[connection_outcome::established];
        ++counts_[*dropped];
        ++counts_.dropped_while_held;
        --counts_.held;
        co_return;
      }
    }
    s.unlink();
  }
  say_goodbye(s.socket, config_.handshake);
  ++counts_.closed_by_storm;
  --counts_.held;
}

void storm_generator::attempt_finished() {
  ++resolved_;
  if (config_.churn || resolved_ != config_.connections || stopping_) return;
  ramp_done_at_ = clock::now();
  if (!config_.hold) return;
  hold_.expires_after(*config_.hold);
  hold_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->stop();
  });
}

void storm_generator::maybe_finish() {
  if (finished_ || !launcher_done_ || live_ > 0) return;
  finished_ = true;
  finished_at_ = clock::now();
  hold_.cancel();
  finished_signal_.cancel();
}

}  // namespace faultline::storm
