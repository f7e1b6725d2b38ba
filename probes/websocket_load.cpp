#include "probes/websocket_load.hpp"

#include "core/log.hpp"
#include "core/open_files.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <queue>
#include <stdexcept>

namespace faultline::probes {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using std::chrono::nanoseconds;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto late_after = std::chrono::milliseconds(1);
constexpr auto close_timeout = std::chrono::seconds(1);
// Descriptors kept free for everything else the process does (proxies, probes, the HTTP load).
constexpr std::int64_t reserved_descriptors = 512;
// With `match: next`, timed-out messages stay queued so a late reply pairs with its own message;
// beyond this many, the oldest are forgotten (a server that never answers must not grow memory).
constexpr std::size_t max_waiting = 256;

using ws_stream = websocket::stream<tcp::socket>;

std::shared_ptr<spdlog::logger> load_log() { return logger("load"); }

// The Timeline's outcome class of a session attempt's class.
outcome sample_outcome(connection_outcome o) {
  switch (o) {
    case connection_outcome::established: return outcome::ok;
    case connection_outcome::refused: return outcome::connect_refused;
    case connection_outcome::reset: return outcome::reset;
    case connection_outcome::closed_early: return outcome::reset;
    case connection_outcome::timed_out: return outcome::timeout;
    case connection_outcome::handshake_failed: return outcome::protocol_error;
    case connection_outcome::local_error: return outcome::protocol_error;
  }
  return outcome::protocol_error;
}

// The id a reply echoes at `pointer`: a number, or a string holding one.
std::optional<std::uint64_t> echoed_id(std::string_view text, const nlohmann::json::json_pointer& pointer) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.contains(pointer)) return std::nullopt;
  const auto& v = doc.at(pointer);
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (ec == std::errc{} && end == s.data() + s.size()) return id;
  }
  return std::nullopt;
}

}  // namespace

// ---- config ---------------------------------------------------------------------------------

const param_schema& websocket_load_params() {
  using namespace std::chrono_literals;
  static const param_schema schema{
      {"url", param_kind::text, "ws://host:port/path to open sessions on", {}, true},
      {"sessions", param_kind::integer, "concurrent sessions", {}, true, 1, 1000000},
      {"ramp", param_kind::duration, "sessions connect evenly over this time (0s: all at once)", nanoseconds(0), false},
      {"rate", param_kind::rate, "messages per second per session (0/s: sessions only)", 1.0, false, 0},
      {"message", param_kind::text, "message text; {{id}} becomes the message's id", std::string(R"({"id":{{id}}})")},
      {"match", param_kind::text, "what answers a message: next (the next message received) or a JSON pointer to the echoed id (e.g. /id)",
       std::string("next")},
      {"timeout", param_kind::duration, "a message without its reply this long after its intended send time is a timeout",
       nanoseconds(2s), false, 1e6},
      {"connect_timeout", param_kind::duration, "TCP connect plus upgrade, at most (from the attempt's intended time)",
       nanoseconds(2s), false, 1e6},
      {"reconnect", param_kind::duration, "a failed or dropped session tries again after this long (default: it stays down)"},
      {"headers", param_kind::text_map, "extra headers of the upgrade request"},
  };
  return schema;
}

websocket_load_config websocket_load_config::from(const params& p) {
  websocket_load_config c;
  try {
    c.url = parse_websocket_url(p.text("url"));
  } catch (const std::invalid_argument& e) {
    throw param_error("url", e.what());
  }
  c.headers = p.maybe<std::map<std::string, std::string>>("headers").value_or(c.headers);
  c.sessions = p.integer("sessions");
  if (c.sessions < 1) throw param_error("sessions", "sessions must be at least 1");
  c.ramp = p.maybe<nanoseconds>("ramp").value_or(c.ramp);
  if (p.has("rate")) c.rate = p.number("rate");
  if (c.rate < 0 || !std::isfinite(c.rate)) throw param_error("rate", "the message rate must be 0/s or more");
  const auto message = p.maybe<std::string>("message").value_or(R"({"id":{{id}}})");
  std::string_view rest = message;
  for (auto at = rest.find(id_placeholder); at != std::string_view::npos; at = rest.find(id_placeholder)) {
    c.message.emplace_back(rest.substr(0, at));
    rest.remove_prefix(at + id_placeholder.size());
  }
  c.message.emplace_back(rest);
  const auto match = p.maybe<std::string>("match").value_or("next");
  if (match != "next") {
    if (!match.starts_with('/'))
      throw param_error("match", fmt::format("match is 'next' or a JSON pointer to the echoed id such as /id, not '{}'", match));
    try {
      (void)nlohmann::json::json_pointer(match);
    } catch (const nlohmann::json::exception&) {
      throw param_error("match", fmt::format("'{}' is not a JSON pointer; write e.g. /id or /meta/request_id", match));
    }
    if (c.message.size() < 2)
      throw param_error("match", fmt::format("match: {} pairs replies by the id they echo, but the message has no {{{{id}}}} to echo",
                                             match));
    c.match = match;
  }
  c.timeout = p.maybe<nanoseconds>("timeout").value_or(c.timeout);
  if (c.timeout.count() <= 0) throw param_error("timeout", "the timeout must be positive");
  c.connect_timeout = p.maybe<nanoseconds>("connect_timeout").value_or(c.connect_timeout);
  if (c.connect_timeout.count() <= 0) throw param_error("connect_timeout", "the connect timeout must be positive");
  if (auto r = p.maybe<nanoseconds>("reconnect")) c.reconnect = *r;
  return c;
}

std::string websocket_load_config::message_text(std::uint64_t id) const {
  const auto digits = std::to_string(id);
  std::string out = message.front();
  for (std::size_t i = 1; i < message.size(); ++i) out.append(digits).append(message[i]);
  return out;
}

nanoseconds websocket_load_config::settle_time() const {
  return std::max(timeout, connect_timeout) + std::chrono::milliseconds(100);
}

nlohmann::json to_json(const websocket_load_stats& s) {
  nlohmann::json sessions = nlohmann::json::object();
  for (std::size_t i = 0; i < connection_outcome_count; ++i)
    sessions[std::string(to_string(static_cast<connection_outcome>(i)))] = s.sessions[i];
  return {
      {"messages_late_total", s.messages_late_total},
      {"messages_lost_total", s.messages_lost_total},
      {"messages_not_sent_total", s.messages_not_sent_total},
      {"messages_sent_total", s.messages_sent_total},
      {"messages_timed_out_total", s.messages_timed_out_total},
      {"replies_total", s.replies_total},
      {"replies_unmatched_total", s.replies_unmatched_total},
      {"sessions", std::move(sessions)},
      {"sessions_attempted_total", s.sessions_attempted_total},
      {"sessions_dropped_total", s.sessions_dropped_total},
      {"sessions_open", s.sessions_open},
      {"sessions_peak", s.sessions_peak},
  };
}

// ---- worker ---------------------------------------------------------------------------------

// One executor's share of the sessions. Everything here runs on the worker's executor, one handler
// at a time; the counters are atomics only so that stats() can read them from another thread.
class websocket_load::worker {
public:
  worker(websocket_load& owner, asio::any_io_executor executor, int index, int count)
      : owner_(owner), executor_(std::move(executor)), index_(index), count_(count) {
    if (!config().match.empty()) pointer_ = nlohmann::json::json_pointer(config().match);
  }

  // Everything the worker owns is touched on its executor only, from the start on.
  void start(clock::time_point at, std::optional<tcp::endpoint> target) {
    asio::post(executor_, [this, at, target] { launch(at, target); });
  }

  void stop() {
    asio::post(executor_, [this] {
      for (auto& s : sessions_) s.timer.cancel();
    });
  }

  void add_to(websocket_load_stats& s) const {
    const auto r = std::memory_order_relaxed;
    s.messages_late_total += late_.load(r);
    s.messages_lost_total += lost_.load(r);
    s.messages_not_sent_total += not_sent_.load(r);
    s.messages_sent_total += sent_.load(r);
    s.messages_timed_out_total += timed_out_.load(r);
    s.replies_total += replies_.load(r);
    s.replies_unmatched_total += unmatched_.load(r);
    for (std::size_t i = 0; i < connection_outcome_count; ++i) s.sessions[i] += outcomes_[i].load(r);
    s.sessions_attempted_total += attempted_.load(r);
    s.sessions_dropped_total += dropped_.load(r);
    s.sessions_open += open_.load(r);
    s.sessions_peak += peak_.load(r);
  }

private:
  void launch(clock::time_point at, std::optional<tcp::endpoint> target) {
    start_ = at;
    target_ = target;
    host_ = config().url.authority();
    const auto& c = config();
    for (std::int64_t i = index_; i < c.sessions; i += count_) {
      sessions_.emplace_back(executor_, i);
      const auto due = at + std::chrono::duration_cast<nanoseconds>(
                                std::chrono::duration<double, std::nano>(static_cast<double>(c.ramp.count()) *
                                                                         static_cast<double>(i) / static_cast<double>(c.sessions)));
      spawn([this, &s = sessions_.back(), due] { return run_session(s, due); }, "websocket session");
    }
    spawn([this] { return sweep(); }, "websocket load sweep");
  }

  struct waiting_message {
    std::uint64_t id = 0;
    clock::time_point intended{};
    clock::time_point sent{};
    bool expired = false;  // recorded as a timeout; kept (match: next) so its late reply pairs with it
  };
  enum class phase { idle, connecting, open, closing };

  // One session: it lives as long as the worker and reconnects in place.
  struct session {
    session(const asio::any_io_executor& ex, std::int64_t i) : timer(ex), index(i) {}
    asio::steady_timer timer;  // its own schedule: the next attempt or message; woken by events
    std::int64_t index;
    std::unique_ptr<ws_stream> ws;  // this connection's stream (none between attempts)
    std::vector<waiting_message> waiting;  // sent, not yet answered, in send order
    std::uint64_t next_id = 1;   // ids never repeat across a session's connections
    std::uint64_t attempt = 0;   // attempts made (deadlines name the one they bound)
    phase state = phase::idle;
    bool expired = false;        // the attempt's (or close's) deadline passed
    bool reading = false;        // the reader coroutine runs
    std::optional<connection_outcome> dropped;  // how the server ended the connection
  };

  struct deadline {
    clock::time_point at;
    session* s;
    std::uint64_t key;  // an attempt number or a message id
    bool operator>(const deadline& o) const { return at > o.at; }
  };
  using deadline_queue = std::priority_queue<deadline, std::vector<deadline>, std::greater<>>;

  const websocket_load_config& config() const { return owner_.config(); }
  bool stopping() const { return owner_.stopping_.load(std::memory_order_relaxed); }
  static void bump(std::atomic<std::uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

  template <typename Task>
  void spawn(Task task, const char* what) {
    ++tasks_;
    asio::co_spawn(executor_, std::move(task), [this, what](std::exception_ptr e) {
      if (e) log_exception(*load_log(), what, e);
      if (--tasks_ == 0) owner_.worker_finished();
    });
  }

  // Attempts (and reconnects) until the load stops, or once when there is no reconnect.
  asio::awaitable<void> run_session(session& s, clock::time_point due) {
    for (;;) {
      while (!stopping() && clock::now() < due) {
        s.timer.expires_at(due);
        co_await s.timer.async_wait(use_tuple);
      }
      if (stopping()) break;
      const auto started = clock::now();
      const auto result = co_await attempt(s, due);
      bump(attempted_);
      bump(outcomes_[static_cast<std::size_t>(result)]);
      owner_.sessions_.record({due, started, clock::now() - due, sample_outcome(result)});
      if (result == connection_outcome::local_error && local_errors_logged_++ < 3)
        load_log()->error("load.websocket: session {} could not connect: {} (file descriptors or ports ran out?)",
                          s.index, last_local_error_);
      if (result == connection_outcome::established) co_await converse(s);
      s.ws.reset();
      s.state = phase::idle;
      if (stopping() || !config().reconnect) break;
      due = clock::now() + *config().reconnect;
    }
  }

  asio::awaitable<connection_outcome> attempt(session& s, clock::time_point due) {
    s.ws = std::make_unique<ws_stream>(executor_);
    auto& ws = *s.ws;
    // Client frames are masked through the write buffer: keep it small (memory per session), and
    // never split a message into fragments.
    ws.auto_fragment(false);
    ws.write_buffer_bytes(512);
    ws.read_message_max(1 << 20);
    ws.text(true);
    ws.set_option(websocket::stream_base::decorator([config = owner_.config_](websocket::request_type& request) {
      request.set(beast::http::field::user_agent, "faultline-load");
      for (const auto& [name, value] : config->headers) request.set(name, value);
    }));
    s.state = phase::connecting;
    s.expired = false;
    ++s.attempt;
    deadlines_.push({due + config().connect_timeout, &s, s.attempt});
    if (!target_) co_return connection_outcome::refused;  // the name did not resolve (logged at start)
    auto [cec] = co_await ws.next_layer().async_connect(*target_, use_tuple);
    connection_outcome result = connection_outcome::established;
    if (cec) {
      result = connection_outcome_of(cec);
      if (result == connection_outcome::local_error) last_local_error_ = cec.message();
    } else {
      boost::system::error_code ignored;
      ws.next_layer().set_option(tcp::no_delay(true), ignored);
      websocket::response_type response;
      auto [hec] = co_await ws.async_handshake(response, host_, config().url.target, use_tuple);
      result = connection_outcome_of_upgrade(hec, response.result_int());
    }
    if (result != connection_outcome::established && s.expired) result = connection_outcome::timed_out;
    co_return result;
  }

  // An established session: messages on schedule until the server drops it or the load stops.
  asio::awaitable<void> converse(session& s) {
    s.state = phase::open;
    s.dropped.reset();
    s.reading = true;
    const auto open = open_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (open > peak_.load(std::memory_order_relaxed)) peak_.store(open, std::memory_order_relaxed);
    asio::co_spawn(executor_, read_replies(s), [&s](std::exception_ptr e) {
      if (e) log_exception(*load_log(), "websocket reader", e);
      s.reading = false;
      s.timer.cancel();  // the writer notices
    });

    boost::system::error_code write_error;
    if (config().rate > 0) {
      // Message k of session i is due at start + (k + i / sessions) / rate: the whole load sends
      // at an even pace whatever the ramp, and each session at its own phase.
      const double period = 1e9 / config().rate;
      const double phase_ns = period * static_cast<double>(s.index) / static_cast<double>(config().sessions);
      const double since = static_cast<double>((clock::now() - start_).count()) - phase_ns;
      const double k = std::max(0.0, std::ceil(since / period));
      auto next = [&](double n) {
        return start_ + nanoseconds(static_cast<std::int64_t>(std::llround(phase_ns + n * period)));
      };
      double n = k;
      for (;;) {
        if (stopping() || !s.reading) break;
        const auto intended = next(n);
        const auto now = clock::now();
        if (now < intended) {
          s.timer.expires_at(intended);
          co_await s.timer.async_wait(use_tuple);
          continue;
        }
        n += 1;
        if (now - intended >= config().timeout) {
          // Too late to be worth sending: it would time out anyway. Counted as the timeout it is.
          bump(not_sent_);
          bump(timed_out_);
          bump(late_);
          owner_.messages_.record({intended, now, now - intended, outcome::timeout});
          continue;
        }
        const auto id = s.next_id++;
        const auto text = config().message_text(id);
        s.waiting.push_back({id, intended, now, false});
        message_deadlines_.push({intended + config().timeout, &s, id});
        bump(sent_);
        if (now - intended > late_after) bump(late_);
        auto [ec, written] = co_await s.ws->async_write(asio::buffer(text), use_tuple);
        if (ec) {
          write_error = ec;
          break;
        }
      }
    }

    if (write_error && s.reading) {
      // The connection broke under the write; the reader may still be waiting: end it.
      if (!s.dropped) s.dropped = connection_outcome_of(write_error);
      boost::system::error_code ignored;
      s.ws->next_layer().close(ignored);
    } else if (s.reading) {
      // Stopping: replies still due may come in (or time out), then a WebSocket close.
      while (s.reading && live_waiting(s)) {
        s.timer.expires_at(clock::time_point::max());
        co_await s.timer.async_wait(use_tuple);
      }
      if (s.reading && !s.dropped) {
        s.state = phase::closing;
        deadlines_.push({clock::now() + close_timeout, &s, s.attempt});
        auto [ec] = co_await s.ws->async_close(websocket::close_code::normal, use_tuple);
        if (ec) {
          boost::system::error_code ignored;
          s.ws->next_layer().close(ignored);
        }
      }
    }
    while (s.reading) {
      s.timer.expires_at(clock::time_point::max());
      co_await s.timer.async_wait(use_tuple);
    }
    open_.fetch_sub(1, std::memory_order_relaxed);
    if (s.dropped) {
      // The server ended it: the attempt's class moves from established to how it ended, and
      // the messages still waiting are lost with it.
      bump(dropped_);
      outcomes_[static_cast<std::size_t>(connection_outcome::established)].fetch_sub(1, std::memory_order_relaxed);
      bump(outcomes_[static_cast<std::size_t>(*s.dropped)]);
      const auto now = clock::now();
      for (const auto& m : s.waiting) {
        if (m.expired) continue;
        bump(lost_);
        owner_.messages_.record({m.intended, m.sent, now - m.intended, sample_outcome(*s.dropped)});
      }
    }
    s.waiting.clear();
  }

  static bool live_waiting(const session& s) {
    return std::any_of(s.waiting.begin(), s.waiting.end(), [](const waiting_message& m) { return !m.expired; });
  }

  asio::awaitable<void> read_replies(session& s) {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await s.ws->async_read(buffer, use_tuple);
      if (ec) {
        if (s.state == phase::open && !s.dropped) s.dropped = connection_outcome_of(ec);
        co_return;
      }
      on_reply(s, std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()));
      buffer.consume(buffer.size());
    }
  }

  void on_reply(session& s, std::string_view text) {
    const auto now = clock::now();
    auto it = s.waiting.end();
    if (config().match.empty()) {
      it = s.waiting.begin();
    } else if (auto id = echoed_id(text, pointer_)) {
      it = std::find_if(s.waiting.begin(), s.waiting.end(), [&](const waiting_message& m) { return m.id == *id; });
    }
    if (it == s.waiting.end() || it->expired) {
      bump(unmatched_);
      if (it != s.waiting.end()) s.waiting.erase(it);
      return;
    }
    bump(replies_);
    owner_.messages_.record({it->intended, it->sent, now - it->intended, outcome::ok});
    s.waiting.erase(it);
    if (stopping()) s.timer.cancel();  // a drain may be waiting for this reply
  }

  // One timer for every deadline instead of one per session: attempts and closes past theirs are
  // cancelled, messages past theirs are recorded as timeouts. A deadline is seen at most one
  // tick late.
  asio::awaitable<void> sweep() {
    const auto every = std::clamp<nanoseconds>(std::min(config().timeout, config().connect_timeout) / 20,
                                               std::chrono::milliseconds(1), std::chrono::milliseconds(10));
    asio::steady_timer tick(executor_);
    while (tasks_ > 1) {  // while a session runs
      tick.expires_after(every);
      co_await tick.async_wait(use_tuple);
      const auto now = clock::now();
      while (!deadlines_.empty() && deadlines_.top().at <= now) {
        const auto d = deadlines_.top();
        deadlines_.pop();
        auto& s = *d.s;
        if (s.attempt != d.key || !s.ws || (s.state != phase::connecting && s.state != phase::closing)) continue;
        s.expired = true;
        boost::system::error_code ignored;
        s.ws->next_layer().close(ignored);
      }
      while (!message_deadlines_.empty() && message_deadlines_.top().at <= now) {
        const auto d = message_deadlines_.top();
        message_deadlines_.pop();
        expire(*d.s, d.key, now);
      }
    }
  }

  void expire(session& s, std::uint64_t id, clock::time_point now) {
    auto it = std::find_if(s.waiting.begin(), s.waiting.end(), [&](const waiting_message& m) { return m.id == id; });
    if (it == s.waiting.end() || it->expired) return;
    bump(timed_out_);
    owner_.messages_.record({it->intended, it->sent, now - it->intended, outcome::timeout});
    if (config().match.empty()) {
      it->expired = true;
      if (s.waiting.size() > max_waiting && s.waiting.front().expired) s.waiting.erase(s.waiting.begin());
    } else {
      s.waiting.erase(it);
    }
    if (stopping()) s.timer.cancel();  // a drain may be waiting for this one
  }

  websocket_load& owner_;
  asio::any_io_executor executor_;  // runs one handler at a time
  const int index_;
  const int count_;
  clock::time_point start_{};
  std::optional<tcp::endpoint> target_;
  std::string host_;  // the Host of the upgrade request
  nlohmann::json::json_pointer pointer_;
  std::deque<session> sessions_;  // a deque: sessions never move
  deadline_queue deadlines_;          // attempts and closes
  deadline_queue message_deadlines_;  // messages waiting for replies
  int tasks_ = 0;
  int local_errors_logged_ = 0;
  std::string last_local_error_;

  std::atomic<std::uint64_t> late_{0}, lost_{0}, not_sent_{0}, sent_{0}, timed_out_{0}, replies_{0}, unmatched_{0};
  std::array<std::atomic<std::uint64_t>, connection_outcome_count> outcomes_{};
  std::atomic<std::uint64_t> attempted_{0}, dropped_{0}, open_{0}, peak_{0};
};

// ---- websocket_load -------------------------------------------------------------------------

websocket_load::websocket_load(std::vector<asio::any_io_executor> executors,
                               std::shared_ptr<const websocket_load_config> config, timeline::recorder messages,
                               timeline::recorder sessions)
    : config_(std::move(config)), messages_(messages), sessions_(sessions) {
  if (executors.empty()) throw std::invalid_argument("websocket_load: no executor");
  if (!messages_ || !sessions_) throw std::invalid_argument("websocket_load: no timeline series to record into");
  const auto limit = raise_open_files_limit();
  if (config_->sessions > limit - reserved_descriptors)
    throw std::runtime_error(fmt::format(
        "load.websocket: {} sessions need as many open files, but this process may open {} (ulimit -n); use at most "
        "{} sessions or raise the hard limit",
        config_->sessions, limit, std::max<std::int64_t>(0, limit - reserved_descriptors)));
  const int n = static_cast<int>(executors.size());
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<worker>(*this, executors[static_cast<std::size_t>(i)], i, n));
}

websocket_load::~websocket_load() = default;

void websocket_load::start(clock::time_point at) {
  if (started_.exchange(true)) throw std::logic_error("websocket_load: started twice");
  std::optional<tcp::endpoint> target;
  const auto& url = config_->url;
  boost::system::error_code ec;
  const auto port = static_cast<std::uint16_t>(std::stoi(url.port));
  if (auto address = asio::ip::make_address(url.host, ec); !ec) {
    target = tcp::endpoint(address, port);
  } else {
    asio::io_context io;
    auto results = tcp::resolver(io).resolve(url.host, url.port, ec);
    if (!ec && !results.empty()) target = results.begin()->endpoint();
    else load_log()->error("load.websocket: cannot resolve '{}': {}; every session counts as refused", url.host,
                           ec ? ec.message() : "no address");
  }
  running_workers_ = static_cast<int>(workers_.size());
  for (auto& w : workers_) w->start(at, target);
}

void websocket_load::stop() {
  stopping_ = true;
  for (auto& w : workers_) w->stop();
}

void websocket_load::worker_finished() { --running_workers_; }

websocket_load_stats websocket_load::stats() const {
  websocket_load_stats s;
  for (const auto& w : workers_) w->add_to(s);
  return s;
}

}  // namespace faultline::probes
