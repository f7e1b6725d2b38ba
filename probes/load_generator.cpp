#include "probes/load_generator.hpp"

#include "core/log.hpp"

#include <fmt/format.h>

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

namespace {

// A request's parameter error, named as the loader points at it: "requests[1].url".
param_error in_request(const http_load_parts& parts, std::size_t i, const param_error& e) {
  return param_error(fmt::format("{}[{}].{}", parts.journey ? "journey" : "requests", i, e.param()), e.what());
}

}  // namespace

http_load_config http_load_config::from(const params& p, load_shape shape, const http_load_parts& parts) {
  http_load_config c;
  const bool mix = !parts.requests.empty();
  if (p.has("url")) {
    try {
      c.url = parse_http_url(p.text("url"));
    } catch (const std::invalid_argument& e) {
      throw param_error("url", e.what());
    }
  } else if (mix) {
    // The first request's full URL names the origin.
    try {
      c.url = parse_http_url(parts.requests.front().parameters.text("url"));
    } catch (const std::invalid_argument&) {
      throw param_error("url", "the requests' urls are paths; give the load a url (http://host:port) they are on");
    }
  } else {
    throw param_error("url", "the load needs a url (or a list of requests)");
  }
  const auto headers = p.maybe<std::map<std::string, std::string>>("headers").value_or(std::map<std::string, std::string>{});
  std::optional<unsigned> expect_status;
  if (auto s = p.maybe<std::int64_t>("expect.status")) expect_status = static_cast<unsigned>(*s);
  c.seed = static_cast<std::uint64_t>(p.maybe<std::int64_t>("seed").value_or(1));
  if (auto h = p.maybe<std::string>("fallback.header")) {
    try {
      c.fallback = header_match::parse(*h);
    } catch (const std::invalid_argument& e) {
      throw param_error("fallback.header", e.what());
    }
  }

  for (const auto& [name, vp] : parts.values) {
    try {
      c.values.push_back(make_load_value(name, vp, parts.base_dir));
    } catch (const param_error& e) {
      throw param_error(fmt::format("values.{}.{}", name, e.param()), e.what());
    }
  }
  template_scope scope{&c.values, {}, 0};
  if (!mix) {
    params single;
    single.set("name", std::string());
    single.set("url", c.url.target);
    for (const char* key : {"method", "body"})
      if (auto v = p.maybe<std::string>(key)) single.set(key, *v);
    c.requests.push_back(make_load_request(single, {}, c.url, headers, scope));
  } else {
    c.journey = parts.journey;
    for (const auto& r : parts.requests)
      for (const auto& capture : r.captures) scope.captures.push_back(capture.name);
    std::size_t slot = 0;
    for (std::size_t i = 0; i < parts.requests.size(); ++i) {
      auto captures = parts.requests[i].captures;
      if (!captures.empty() && !parts.journey)
        throw param_error(fmt::format("requests[{}].capture", i),
                          "captured values belong to a user's journey; use journey: instead of requests:");
      for (auto& capture : captures) capture.slot = slot++;
      try {
        c.requests.push_back(make_load_request(parts.requests[i].parameters, std::move(captures), c.url, headers, scope));
      } catch (const param_error& e) {
        throw in_request(parts, i, e);
      }
      scope.captured_before = slot;
      auto& r = c.requests.back();
      if (!r.expect_status) r.expect_status = expect_status;
      for (std::size_t j = 0; j < i; ++j)
        if (c.requests[j].name == r.name)
          throw in_request(parts, i, param_error("name", fmt::format("two requests are named '{}'; each name is a series of "
                                                                     "its own (load.{})", r.name, r.name)));
    }
    double total = 0;
    for (const auto& r : c.requests) total += r.weight;
    if (!parts.journey && total <= 0) throw in_request(parts, 0, param_error("weight", "the weights of the mix add up to 0"));
  }
  if (!mix) c.requests.front().expect_status = expect_status;

  c.timeout = p.maybe<nanoseconds>("timeout").value_or(c.timeout);
  if (c.timeout.count() <= 0) throw param_error("timeout", "the timeout must be positive");
  c.connections = p.maybe<std::int64_t>("connections").value_or(0);
  if (c.connections < 0) throw param_error("connections", "connections must be 0 (automatic) or more");
  if (auto n = p.maybe<std::int64_t>("max_requests")) c.max_requests = static_cast<std::uint64_t>(std::max<std::int64_t>(0, *n));
  if (shape.empty()) throw param_error("rate", "the load needs a rate, users or stages");
  if (c.journey)
    for (const auto& stage : shape)
      if (stage.kind != load_stage::model::closed)
        throw param_error("journey", "a journey is what each virtual user does: give the load users (or user stages), "
                                     "not a rate; for an arrival rate use a mix of requests:");
  c.shape = std::move(shape);
  return c;
}

load_series make_load_series(timeline& t, const http_load_config& config, std::string_view prefix) {
  load_series s;
  s.total = t.series(prefix);
  if (config.named_requests())
    for (const auto& r : config.requests) s.requests.push_back(t.series(fmt::format("{}.{}", prefix, r.name)));
  return s;
}

// ---- worker ---------------------------------------------------------------------------------

// One executor's share of the load. Everything here runs on the worker's executor, one handler
// at a time; the counters are atomics only so that stats() can read them from another thread.
class load_generator::worker {
public:
  worker(load_generator& owner, asio::any_io_executor executor, int index, int count)
      : owner_(owner),
        executor_(std::move(executor)),
        index_(index),
        count_(count),
        arrival_timer_(executor_),
        values_(owner.config().values, owner.value_counters_.get(), owner.config().seed * 1000003u + static_cast<unsigned>(index)),
        renderer_(owner.config().values, values_),
        mix_credit_(owner.config().requests.size(), 0.0) {
    const auto& c = owner_.config();
    for (const auto& r : c.requests) mix_total_ += r.weight;
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
    s.captures_failed_total += captures_failed_;
    s.connections_open += connections_open_;
    s.connections_opened_total += connections_opened_;
    s.journeys_completed_total += journeys_completed_;
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
    std::string request;   // a rendered request, kept while it is sent
    std::vector<std::string> captured;  // closed model: the user's captured values, by slot
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

  // The next request of the mix: smooth weighted round robin, so any stretch of requests holds
  // each in proportion to its weight (within one request), in every worker.
  std::size_t pick() {
    const auto n = mix_credit_.size();
    if (n == 1) return 0;
    std::size_t best = 0;
    for (std::size_t i = 0; i < n; ++i) {
      mix_credit_[i] += config().requests[i].weight;
      if (mix_credit_[i] > mix_credit_[best]) best = i;
    }
    mix_credit_[best] -= mix_total_;
    return best;
  }

  void record(std::size_t request, const sample& s) {
    owner_.series_.total.record(s);
    if (!owner_.series_.requests.empty()) owner_.series_.requests[request].record(s);
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
    const auto tick = config().tick;
    auto now = clock::now();
    for (;;) {
      const auto t = arrival_time(stage.rate_from, stage.rate_to, length, (next - carried) * count_);
      if (!t) break;
      const auto intended = stage_start + std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(*t));
      if (intended >= stage_end) break;
      if (intended > now) now = clock::now();
      if (intended > now) {
        // Wakes at most once per tick and sends every arrival due by then: reprogramming the timer,
        // sleeping in epoll and waking the server for every single arrival cost far more CPU than
        // the request (29 us instead of 12 per request at 30,000/s, docs/benchmarks.md). An arrival
        // goes out at most a tick late (on a quiet machine); its latency counts from its intended time.
        arrival_timer_.expires_at(std::max(intended, last_wake_ + tick));
        co_await arrival_timer_.async_wait(use_tuple);
        now = last_wake_ = clock::now();
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
      co_await send(*slot, intended, pick());
    }
    if (slot->opening) {
      slot->opening = false;
      --opening_;
    }
    if (slot->http.is_open()) --connections_open_;
    slot->http.close();
    slots_.erase(slot);
  }

  // Sends one request and records its sample; true when it was ok (and captured what it should).
  asio::awaitable<bool> send(connection_slot& slot, clock::time_point intended, std::size_t which) {
    auto& http = slot.http;
    const auto& request = config().requests[which];
    const auto started = clock::now();
    if (started - intended >= config().timeout) {
      // Too late to be worth sending: it would time out anyway. Counted as the timeout it is.
      ++dropped_;
      ++late_;
      record(which, finished(intended, started, outcome::timeout));
      co_return false;
    }
    ++sent_;
    if (started - intended > late_after) ++late_;
    const bool was_open = http.is_open();
    const auto connects = http.connects();
    ++in_flight_;
    slot.deadline = intended + config().timeout;
    const auto bytes = renderer_.render(request, slot.captured, slot.request);
    const auto* fallback = config().fallback ? &*config().fallback : nullptr;
    auto reply = co_await http.exchange(bytes, clock::time_point::max(), request.keeps_response(), 16u << 20, fallback);
    slot.deadline = clock::time_point::max();
    --in_flight_;
    ++completed_;
    connections_opened_ += http.connects() - connects;
    if (!was_open && http.is_open()) ++connections_open_;
    if (was_open && !http.is_open()) --connections_open_;
    auto result = reply.failure ? *reply.failure : classify_status(reply.status, request.expect_status);
    if (result == outcome::ok) {
      for (const auto& capture : request.captures) {
        auto value = capture_value(capture, reply);
        if (!value) {
          ++captures_failed_;
          result = outcome::unexpected_value;
          break;
        }
        if (slot.captured.size() <= capture.slot) slot.captured.resize(capture.slot + 1);
        slot.captured[capture.slot] = std::move(*value);
      }
    }
    auto s = finished(intended, started, result);
    s.fallback = reply.header_matched;
    record(which, s);
    co_return result == outcome::ok;
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
    const auto running = [&] { return !stopping() && clock::now() < until; };
    // A pause after a request; false when the stage or the run ended meanwhile.
    const auto pause = [&](nanoseconds d) -> asio::awaitable<bool> {
      if (d.count() > 0) {
        slot->wake.expires_at(std::min(until, clock::now() + d));
        co_await slot->wake.async_wait(use_tuple);
      }
      co_return running();
    };
    bool limit_hit = false;
    while (running() && !limit_hit) {
      if (!config().journey) {
        if (!take_request()) break;
        co_await send(*slot, clock::now(), pick());  // closed model: a user's request is due when it is sent
        co_await pause(think);
        continue;
      }
      // One pass through the journey. A failed step ends the pass: the user starts over, as a
      // person whose login failed would, and later steps never run without their captured values.
      bool complete = true;
      const auto& steps = config().requests;
      for (std::size_t i = 0; i < steps.size() && complete; ++i) {
        for (std::int64_t n = 0; n < steps[i].repeat && complete; ++n) {
          if (!running()) complete = false;
          else if (!take_request()) complete = false, limit_hit = true;
          else {
            const bool ok = co_await send(*slot, clock::now(), i);
            const bool still = co_await pause(steps[i].think_time.value_or(think));
            complete = ok && still;
          }
        }
      }
      if (complete) ++journeys_completed_;
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
  clock::time_point last_wake_{};  // of the arrival timer, for the tick
  std::deque<clock::time_point> pending_;
  std::vector<connection_slot*> idle_;
  std::list<connection_slot> slots_;
  bool arrivals_over_ = false;
  int tasks_ = 0;
  int opening_ = 0;  // new pool connections that have not taken a request yet
  value_stream values_;
  request_renderer renderer_;
  std::vector<double> mix_credit_;  // smooth weighted round robin
  double mix_total_ = 0;

  std::atomic<std::uint64_t> captures_failed_{0};
  std::atomic<std::uint64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_opened_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> journeys_completed_{0};
  std::atomic<std::uint64_t> late_{0};
  std::atomic<std::uint64_t> scheduled_{0};
  std::atomic<std::uint64_t> sent_{0};
};

// ---- load_generator -------------------------------------------------------------------------

load_generator::load_generator(std::vector<asio::any_io_executor> executors, std::shared_ptr<const http_load_config> config,
                               load_series series)
    : config_(std::move(config)), series_(std::move(series)) {
  if (executors.empty()) throw std::invalid_argument("load_generator: no executor");
  if (!series_.total) throw std::invalid_argument("load_generator: no timeline series to record into");
  if (!series_.requests.empty() && series_.requests.size() != config_->requests.size())
    throw std::invalid_argument("load_generator: one series per request, or none");
  value_counters_ = std::make_unique<std::atomic<std::int64_t>[]>(config_->values.size());
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
