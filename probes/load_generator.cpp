#include "probes/load_generator.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <list>
#include <stdexcept>

namespace faultline::probes {
namespace asio = boost::asio;
using std::chrono::nanoseconds;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto late_after = std::chrono::milliseconds(1);

double seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

void log_stray(std::exception_ptr e) { log_exception(*logger("load"), "load generator", e); }

}  // namespace

std::optional<double> arrival_time(double from, double to, double length, double count) {
  if (count <= 0) return 0.0;
  if (length <= 0 || from == to) {
    if (from <= 0) return std::nullopt;
    const double t = count / from;
    if (length > 0 && t > length) return std::nullopt;
    return t;
  }
  // Arrivals by time t: N(t) = from * t + c * t^2 with c = (to - from) / (2 * length). Solved in
  // the form that stays exact when c is tiny or from is 0.
  const double c = (to - from) / (2 * length);
  const double disc = from * from + 4 * c * count;
  if (disc < 0) return std::nullopt;
  const double denominator = from + std::sqrt(disc);
  if (denominator <= 0) return std::nullopt;
  const double t = 2 * count / denominator;
  if (t > length) return std::nullopt;
  return t;
}

// ---- config ---------------------------------------------------------------------------------

http_load_config http_load_config::from(const params& p, load_shape shape) {
  http_load_config c;
  try {
    c.url = parse_http_url(p.text("url"));
  } catch (const std::invalid_argument& e) {
    throw param_error("url", e.what());
  }
  const auto headers = p.maybe<std::map<std::string, std::string>>("headers").value_or(std::map<std::string, std::string>{});
  c.request = serialize_http_request(c.url, p.maybe<std::string>("method").value_or("GET"), headers,
                                     p.maybe<std::string>("body").value_or(""), true);
  if (auto s = p.maybe<std::int64_t>("expect.status")) c.expect_status = static_cast<unsigned>(*s);
  if (auto h = p.maybe<std::string>("fallback.header")) {
    try {
      c.fallback = header_match::parse(*h);
    } catch (const std::invalid_argument& e) {
      throw param_error("fallback.header", e.what());
    }
  }
  c.timeout = p.maybe<nanoseconds>("timeout").value_or(c.timeout);
  if (c.timeout.count() <= 0) throw param_error("timeout", "the timeout must be positive");
  c.connections = p.maybe<std::int64_t>("connections").value_or(0);
  if (c.connections < 0) throw param_error("connections", "connections must be 0 (automatic) or more");
  if (auto n = p.maybe<std::int64_t>("max_requests")) c.max_requests = static_cast<std::uint64_t>(std::max<std::int64_t>(0, *n));
  if (shape.empty()) throw param_error("rate", "the load needs a rate, users or stages");
  c.shape = std::move(shape);
  return c;
}

// ---- worker ---------------------------------------------------------------------------------

// One executor's share of the load. Everything here runs on the worker's executor, one handler
// at a time; the counters are atomics only so that stats() can read them from another thread.
class load_generator::worker {
public:
  worker(load_generator& owner, asio::any_io_executor executor, int index, int count)
      : owner_(owner), executor_(std::move(executor)), index_(index), count_(count), arrival_timer_(executor_) {
    const auto& c = owner_.config();
    if (c.connections > 0)
      max_connections_ = std::max<std::int64_t>(1, c.connections / count_ + (index_ < c.connections % count_ ? 1 : 0));
    else
      max_connections_ = http_load_config::max_auto_connections;
  }

  void start(clock::time_point at) {
    tasks_ += 2;
    asio::co_spawn(executor_, run(at), [this](std::exception_ptr e) {
      log_stray(e);
      arrivals_over_ = true;
      wake_idle();
      task_finished();
    });
    asio::co_spawn(executor_, sweep(), [this](std::exception_ptr e) {
      log_stray(e);
      task_finished();
    });
  }

  void stop() {
    asio::post(executor_, [this] {
      arrival_timer_.cancel();
      idle_.clear();
      for (auto& slot : slots_) slot.wake.cancel();  // idle connections, and users thinking
    });
  }

  void add_to(load_stats& s) const {
    s.connections_open += connections_open_;
    s.connections_opened_total += connections_opened_;
    s.requests_completed_total += completed_;
    s.requests_dropped_total += dropped_;
    s.requests_in_flight += in_flight_;
    s.requests_late_total += late_;
    s.requests_scheduled_total += scheduled_;
    s.requests_sent_total += sent_;
  }

private:
  // A connection (open model) or a virtual user (closed model) with its HTTP connection.
  struct connection_slot {
    connection_slot(const asio::any_io_executor& ex, const http_url& url) : wake(ex), http(ex, url) {}
    asio::steady_timer wake;
    http_connection http;
    std::optional<clock::time_point> job;
    clock::time_point deadline = clock::time_point::max();  // of the request in flight
    bool opening = false;  // a new pool connection that has not taken a request yet
  };
  using slot_ref = std::list<connection_slot>::iterator;

  bool stopping() const { return owner_.stopping_; }
  const http_load_config& config() const { return owner_.config(); }

  // Counts one more scheduled request against max_requests; false when the limit is reached.
  bool take_request() {
    const auto limit = config().max_requests;
    if (limit && owner_.scheduled_.fetch_add(1) >= limit) return false;
    ++scheduled_;
    return true;
  }

  void task_finished() {
    if (--tasks_ == 0) owner_.worker_finished();
  }

  void wake_idle() {
    for (auto* slot : idle_) slot->wake.cancel();
    idle_.clear();
  }

  asio::awaitable<void> run(clock::time_point at) {
    auto stage_start = at;
    // Workers' arrivals interleave instead of coinciding.
    double carried = static_cast<double>(index_) / count_;
    for (const auto& stage : config().shape) {
      if (stopping()) break;
      const bool forever = stage.duration.count() == 0;
      const auto stage_end = forever ? clock::time_point::max() : stage_start + stage.duration;
      if (stage.kind == load_stage::model::open) {
        const bool limit_hit = !co_await open_stage(stage, stage_start, stage_end, carried);
        if (limit_hit) break;
      } else {
        co_await closed_stage(stage, stage_end);
      }
      if (forever) break;
      stage_start = stage_end;
    }
    arrivals_over_ = true;
    wake_idle();
  }

  // Schedules the stage's arrivals; false when max_requests was reached.
  asio::awaitable<bool> open_stage(const load_stage& stage, clock::time_point stage_start, clock::time_point stage_end,
                                   double& carried) {
    const double length = stage.duration.count() == 0 ? 0.0 : seconds(stage.duration);
    double next = std::ceil(carried);
    for (;;) {
      const auto t = arrival_time(stage.rate_from, stage.rate_to, length, (next - carried) * count_);
      if (!t) break;
      const auto intended = stage_start + std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(*t));
      if (intended >= stage_end) break;
      if (intended > clock::now()) {
        arrival_timer_.expires_at(intended);
        co_await arrival_timer_.async_wait(use_tuple);
      }
      if (stopping()) co_return true;
      if (!take_request()) co_return false;
      dispatch(intended);
      next += 1;
    }
    carried += (stage.rate_from + stage.rate_to) / 2 * length / count_;
    co_return true;
  }

  // Hands an arrival to an idle connection, or queues it and opens another connection if allowed.
  void dispatch(clock::time_point intended) {
    if (!idle_.empty()) {
      auto* slot = idle_.back();
      idle_.pop_back();
      slot->job = intended;
      slot->wake.cancel();
      return;
    }
    pending_.push_back(intended);
    // The pool grows while requests wait: one new connection for each waiting request that no new
    // connection is already on its way to take. Slow responses (a latency fault) need many
    // connections at once; a connection that comes free meanwhile takes a request too.
    if (opening_ < static_cast<int>(pending_.size()) && static_cast<std::int64_t>(slots_.size()) < max_connections_) {
      slots_.emplace_back(executor_, config().url);
      slots_.back().opening = true;
      ++opening_;
      ++tasks_;
      asio::co_spawn(executor_, connection_loop(std::prev(slots_.end())), [this](std::exception_ptr e) {
        log_stray(e);
        task_finished();
      });
    }
  }

  // One timer for all requests in flight instead of one per socket operation: every few
  // milliseconds, requests past their deadline are aborted (and come back as timeouts).
  asio::awaitable<void> sweep() {
    const auto every = std::clamp<nanoseconds>(config().timeout / 20, std::chrono::milliseconds(1), std::chrono::milliseconds(10));
    asio::steady_timer tick(executor_);
    while (!(arrivals_over_ && slots_.empty())) {
      tick.expires_after(every);
      co_await tick.async_wait(use_tuple);
      const auto now = clock::now();
      for (auto& slot : slots_)
        if (slot.deadline <= now) {
          slot.deadline = clock::time_point::max();
          slot.http.abort();
        }
    }
  }

  asio::awaitable<void> connection_loop(slot_ref slot) {
    for (;;) {
      // From its first turn on, a new connection is an ordinary one (busy or idle).
      if (slot->opening) {
        slot->opening = false;
        --opening_;
      }
      clock::time_point intended;
      if (slot->job) {
        intended = *slot->job;
        slot->job.reset();
      } else if (!pending_.empty()) {
        intended = pending_.front();
        pending_.pop_front();
      } else if (arrivals_over_ || stopping()) {
        break;
      } else {
        idle_.push_back(&*slot);
        slot->wake.expires_at(clock::time_point::max());
        co_await slot->wake.async_wait(use_tuple);
        continue;
      }
      co_await send(*slot, intended);
    }
    if (slot->opening) {
      slot->opening = false;
      --opening_;
    }
    if (slot->http.is_open()) --connections_open_;
    slot->http.close();
    slots_.erase(slot);
  }

  asio::awaitable<void> send(connection_slot& slot, clock::time_point intended) {
    auto& http = slot.http;
    const auto started = clock::now();
    if (started - intended >= config().timeout) {
      // Too late to be worth sending: it would time out anyway. Counted as the timeout it is.
      ++dropped_;
      ++late_;
      owner_.series_.record(finished(intended, started, outcome::timeout));
      co_return;
    }
    ++sent_;
    if (started - intended > late_after) ++late_;
    const bool was_open = http.is_open();
    const auto connects = http.connects();
    ++in_flight_;
    slot.deadline = intended + config().timeout;
    const auto* fallback = config().fallback ? &*config().fallback : nullptr;
    auto reply = co_await http.exchange(config().request, clock::time_point::max(), false, 16u << 20, fallback);
    slot.deadline = clock::time_point::max();
    --in_flight_;
    ++completed_;
    connections_opened_ += http.connects() - connects;
    if (!was_open && http.is_open()) ++connections_open_;
    if (was_open && !http.is_open()) --connections_open_;
    auto s = finished(intended, started, reply.failure ? *reply.failure : classify_status(reply.status, config().expect_status));
    s.fallback = reply.header_matched;
    owner_.series_.record(s);
  }

  asio::awaitable<void> closed_stage(const load_stage& stage, clock::time_point stage_end) {
    const auto users = stage.users / count_ + (index_ < stage.users % count_ ? 1 : 0);
    if (users <= 0) {
      // Nothing for this worker: wait out the stage.
      arrival_timer_.expires_at(stage_end);
      co_await arrival_timer_.async_wait(use_tuple);
      co_return;
    }
    asio::steady_timer all_done(executor_, clock::time_point::max());
    auto running = std::make_shared<std::int64_t>(users);
    for (std::int64_t u = 0; u < users; ++u) {
      ++tasks_;
      slots_.emplace_back(executor_, config().url);
      asio::co_spawn(executor_, user_loop(std::prev(slots_.end()), stage_end, stage.think_time),
                     [this, running, &all_done](std::exception_ptr e) {
        log_stray(e);
        if (--*running == 0) all_done.cancel();
        task_finished();
      });
    }
    while (*running > 0) co_await all_done.async_wait(use_tuple);
  }

  asio::awaitable<void> user_loop(slot_ref slot, clock::time_point until, nanoseconds think) {
    while (!stopping() && clock::now() < until) {
      if (!take_request()) break;
      co_await send(*slot, clock::now());  // closed model: a user's request is due when it is sent
      if (think.count() > 0) {
        slot->wake.expires_at(std::min(until, clock::now() + think));
        co_await slot->wake.async_wait(use_tuple);
      }
    }
    if (slot->http.is_open()) --connections_open_;
    slot->http.close();
    slots_.erase(slot);
  }

  load_generator& owner_;
  asio::any_io_executor executor_;  // runs one handler at a time (see load_generator.hpp)
  const int index_;
  const int count_;
  std::int64_t max_connections_ = 0;
  asio::steady_timer arrival_timer_;
  std::deque<clock::time_point> pending_;
  std::vector<connection_slot*> idle_;
  std::list<connection_slot> slots_;
  bool arrivals_over_ = false;
  int tasks_ = 0;
  int opening_ = 0;  // new pool connections that have not taken a request yet

  std::atomic<std::uint64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_opened_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> late_{0};
  std::atomic<std::uint64_t> scheduled_{0};
  std::atomic<std::uint64_t> sent_{0};
};

// ---- load_generator -------------------------------------------------------------------------

load_generator::load_generator(std::vector<asio::any_io_executor> executors, std::shared_ptr<const http_load_config> config,
                               timeline::recorder series)
    : config_(std::move(config)), series_(series) {
  if (executors.empty()) throw std::invalid_argument("load_generator: no executor");
  if (!series_) throw std::invalid_argument("load_generator: no timeline series to record into");
  const int n = static_cast<int>(executors.size());
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<worker>(*this, executors[static_cast<std::size_t>(i)], i, n));
}

load_generator::~load_generator() = default;

void load_generator::start(clock::time_point at) {
  if (started_.exchange(true)) throw std::logic_error("load_generator: started twice");
  start_ = at;
  running_workers_ = static_cast<int>(workers_.size());
  for (auto& w : workers_) w->start(at);
}

void load_generator::stop() {
  stopping_ = true;
  for (auto& w : workers_) w->stop();
}

void load_generator::worker_finished() {
  if (--running_workers_ == 0 && on_done_) on_done_();
}

load_stats load_generator::stats() const {
  load_stats s;
  for (const auto& w : workers_) w->add_to(s);
  return s;
}

clock::time_point load_generator::end_of_shape() const {
  auto end = start_;
  for (const auto& s : config_->shape) {
    if (s.duration.count() == 0) return clock::time_point::max();
    end += s.duration;
  }
  return end;
}

}  // namespace faultline::probes
