#include "faults/storm/storm_fleet.hpp"

#include "faults/fault.hpp"
#include "faults/storm/storm_log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

namespace faultline::storm {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::int64_t reserved_files = 64;             // per worker, for the process itself
constexpr std::chrono::milliseconds poll_interval{20};  // how often waits look at the workers

// A numeric address for the target, resolved once (the workers get no say in it).
std::string resolve(const std::string& host) {
  boost::system::error_code ec;
  auto numeric = asio::ip::make_address(host, ec);
  if (!ec) return numeric.to_string();
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty())
    throw faults::fault_error(fmt::format("storm: cannot resolve '{}': {}", host, ec ? ec.message() : "no address"));
  // Prefer IPv4: loopback source spreading works there.
  for (const auto& r : results)
    if (r.endpoint().address().is_v4()) return r.endpoint().address().to_string();
  return results.begin()->endpoint().address().to_string();
}

std::string describe_exit(int code) {
  if (code == 127) return "could not be executed (exit code 127)";
  if (code > 128) return fmt::format("was killed by signal {}", code - 128);
  if (code < 0) return "ended (exit status unknown)";
  return fmt::format("exited with code {}", code);
}

}  // namespace

struct storm_fleet::worker {
  worker(const asio::any_io_executor& ex, const spawned_worker& s, storm_config cfg, std::int64_t i)
      : id(s.id), to(ex, s.to_worker), from(ex, s.from_worker), share(std::move(cfg)), index(i) {}
  process_id id;
  asio::posix::stream_descriptor to;    // its stdin
  asio::posix::stream_descriptor from;  // its stdout
  storm_config share;
  std::int64_t index = 0;
  std::string input;
  bool said_hello = false;
  bool ready = false;
  bool reported_final = false;
  bool ended = false;   // its output closed
  bool reaped = false;
  bool killed = false;  // by us (kill_now, a stop that timed out): its end is no surprise
  std::optional<int> exit_code;
  std::string error;    // what it said in an error message
  storm_report latest;  // counts from its progress reports, everything from its final one
};

std::int64_t storm_fleet::automatic_workers(const storm_config& config, std::int64_t open_files_limit) {
  const auto capacity = std::max<std::int64_t>(1, open_files_limit - reserved_files);
  // No more: on loopback connect() does the server's half of the handshake too, and a second
  // worker opened no faster than one on two cores (docs/benchmarks.md).
  return std::max<std::int64_t>(1, (config.connections + capacity - 1) / capacity);
}

storm_config storm_fleet::share_of(const storm_config& config, std::int64_t index, std::int64_t count) {
  storm_config share = config;
  share.workers = 1;
  share.connections = config.connections / count + (index < config.connections % count ? 1 : 0);
  if (config.rate > 0)
    share.rate = config.rate * static_cast<double>(share.connections) / static_cast<double>(config.connections);
  share.max_pending = std::max<std::int64_t>(1, (config.max_pending + count - 1) / count);
  if (!share.source_addresses.empty()) {
    // Each worker starts on another address, so small storms still spread.
    const auto first = static_cast<std::size_t>(index) % share.source_addresses.size();
    std::rotate(share.source_addresses.begin(), share.source_addresses.begin() + static_cast<std::ptrdiff_t>(first),
                share.source_addresses.end());
  }
  return share;
}

std::shared_ptr<storm_fleet> storm_fleet::spawn(asio::any_io_executor executor, storm_config config, options opts) {
  const auto open_files = open_files_hard_limit();
  const auto capacity = open_files - reserved_files;
  auto count = config.workers > 0 ? config.workers : automatic_workers(config, open_files);
  count = std::min(count, config.connections);
  if ((config.connections + count - 1) / count > capacity)
    throw faults::fault_error(fmt::format(
        "storm: {} connections over {} workers is more than the {} a worker can hold (open-files limit {}); "
        "set workers to at least {}", config.connections, count, capacity, open_files,
        (config.connections + capacity - 1) / capacity));
  config.workers = count;
  if (opts.program.empty()) opts.program = default_worker_program();
  // A worker that dies would otherwise kill us with SIGPIPE on our next command to it.
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);

  std::shared_ptr<storm_fleet> fleet(new storm_fleet(executor, config, opts));
  try {
    for (std::int64_t i = 0; i < count; ++i) {
      auto spawned = spawn_worker(fleet->options_.program);
      fleet->workers_.push_back(std::make_shared<worker>(executor, spawned, storm_config{}, i));
    }
  } catch (const std::exception& e) {
    fleet->kill_now();
    throw faults::fault_error(fmt::format("storm: cannot start worker processes: {}", e.what()));
  }
  return fleet;
}

void storm_fleet::retarget(std::string host, std::uint16_t port) {
  if (started_) throw std::logic_error("storm: retarget after start");
  config_.host = std::move(host);
  config_.address.clear();
  config_.port = port;
  if (automatic_sources_) config_.source_addresses.clear();
  prepared_ = false;
}

void storm_fleet::prepare_target() {
  if (prepared_) return;
  config_.address = resolve(config_.host);
  const bool v4 = asio::ip::make_address(config_.address).is_v4();
  if (config_.source_addresses.empty()) {
    config_.source_addresses = automatic_source_addresses(config_.address, config_.connections, config_.churn);
    automatic_sources_ = true;
  }
  for (const auto& s : config_.source_addresses) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(s, ec);
    if (ec || a.is_v4() != v4)
      throw faults::fault_error(fmt::format("storm: source address {} does not fit the target {} ({}); use IPv{} "
                                            "source addresses", s, config_.target(), config_.address, v4 ? 4 : 6));
  }
  for (auto& w : workers_) w->share = share_of(config_, w->index, config_.workers);
  prepared_ = true;
}

std::string storm_fleet::exec_hint() const {
  if (options_.program != "/proc/self/exe") return {};
  return " (workers run this executable in its storm-worker mode; set FAULTLINE_STORM_WORKER to the faultline "
         "binary when this program is not faultline)";
}

// Each worker says hello as soon as it runs; read synchronously, before any asynchronous reading.
void storm_fleet::await_hello() {
  const auto deadline = clock::now() + options_.start_timeout;
  for (auto& w : workers_) {
    if (w->said_hello || w->ended) continue;
    std::string line;
    while (!w->said_hello) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0)
        throw faults::capability_error(fmt::format("storm: worker {} ({} storm-worker) did not come up within {}s{}",
                                                   w->id.pid, options_.program,
                                                   std::chrono::duration_cast<std::chrono::seconds>(options_.start_timeout).count(),
                                                   exec_hint()));
      pollfd p{w->from.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char c = 0;
      const auto n = ::read(w->from.native_handle(), &c, 1);
      if (n <= 0) {
        // It exited (or closed its output): collect how it ended.
        std::optional<int> code;
        for (int i = 0; i < 100 && !(code = try_reap(w->id.pid)); ++i) ::usleep(10000);
        if (!code) {
          kill_and_reap(w->id.pid);
          code = 128 + SIGKILL;
        }
        w->reaped = w->ended = true;
        w->exit_code = code;
        throw faults::capability_error(fmt::format("storm: worker {} ({} storm-worker) {} before it came up{}",
                                                   w->id.pid, options_.program, describe_exit(*code), exec_hint()));
      }
      if (c != '\n') {
        line.push_back(c);
        if (line.size() > 4096) break;
        continue;
      }
      on_message(*w, line);
      if (!w->said_hello)
        throw faults::capability_error(fmt::format("storm: worker {} ({} storm-worker) answered '{}' instead of "
                                                   "hello{}", w->id.pid, options_.program, line.substr(0, 200), exec_hint()));
    }
    if (!w->said_hello)
      throw faults::capability_error(fmt::format("storm: worker {} ({} storm-worker) answered '{}...' instead of "
                                                 "hello{}", w->id.pid, options_.program, line.substr(0, 200), exec_hint()));
  }
}

void storm_fleet::preflight() {
  if (started_) return;
  prepare_target();
  await_hello();
}

storm_fleet::storm_fleet(asio::any_io_executor executor, storm_config config, options opts)
    : executor_(std::move(executor)), config_(std::move(config)), options_(std::move(opts)) {}

storm_fleet::~storm_fleet() { kill_now(); }

std::vector<process_id> storm_fleet::workers() const {
  std::vector<process_id> out;
  for (const auto& w : workers_) out.push_back(w->id);
  return out;
}

void storm_fleet::kill_now() {
  for (auto& w : workers_) {
    if (!w->reaped) {
      kill_and_reap(w->id.pid);
      w->reaped = w->killed = true;
      if (!w->exit_code) w->exit_code = 128 + SIGKILL;
    }
    w->ended = true;
    boost::system::error_code ignored;
    w->to.close(ignored);
    w->from.close(ignored);
  }
  if (ended_at_ == clock::time_point{}) ended_at_ = clock::now();
}

template <typename Condition>
awaitable<bool> storm_fleet::wait_until(clock::time_point deadline, Condition done) {
  asio::steady_timer timer(executor_);
  while (!done()) {
    if (clock::now() >= deadline) co_return false;
    timer.expires_after(poll_interval);
    co_await timer.async_wait(use_tuple);
  }
  co_return true;
}

awaitable<void> storm_fleet::send(worker& w, std::string line) {
  if (w.ended) co_return;
  auto [ec, n] = co_await asio::async_write(w.to, asio::buffer(line), use_tuple);
  (void)ec;  // a worker that went away shows up in follow()
}

awaitable<void> storm_fleet::start() {
  if (started_) co_return;
  if (stopped_) throw faults::fault_error("storm: the fleet was stopped before it started");
  prepare_target();
  await_hello();
  started_ = true;
  started_at_ = clock::now();
  auto self = shared_from_this();
  for (auto& w : workers_)
    asio::co_spawn(executor_, follow(self, w), log_stray_exception(storm_log(), "storm: following a worker failed"));
  for (auto& w : workers_) {
    // Built outside the co_await: GCC 12 cannot keep braced temporaries alive across a suspension.
    nlohmann::json message;
    message["config"] = to_json(w->share);
    co_await send(*w, message.dump() + "\n");
  }
  const auto all_ready = [this] {
    return std::all_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->ready || w->ended; });
  };
  co_await wait_until(clock::now() + options_.start_timeout, all_ready);
  std::vector<std::string> reasons;
  for (const auto& w : workers_) {
    if (w->ready) continue;
    if (!w->error.empty()) reasons.push_back(w->error);
    else if (w->ended) reasons.push_back(fmt::format("worker {} ({} storm-worker) {}", w->id.pid, options_.program,
                                                     describe_exit(w->exit_code.value_or(-1))));
    else reasons.push_back(fmt::format("worker {} was not ready within {}s", w->id.pid,
                                       std::chrono::duration_cast<std::chrono::seconds>(options_.start_timeout).count()));
  }
  if (!reasons.empty()) {
    kill_now();
    stopped_ = true;
    throw faults::fault_error(fmt::format("storm: {}{}", reasons.front(), exec_hint()));
  }
  for (auto& w : workers_) co_await send(*w, std::string("{\"command\":\"start\"}\n"));
}

awaitable<void> storm_fleet::stop() {
  if (!started_) {
    stopped_ = true;
    kill_now();  // idle workers: nothing to report
    co_return;
  }
  if (!stopped_) {
    stopped_ = true;
    for (auto& w : workers_) co_await send(*w, std::string("{\"command\":\"stop\"}\n"));
  }
  const auto all_reported = [this] {
    return std::all_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->reported_final || w->ended; });
  };
  if (!co_await wait_until(clock::now() + options_.stop_timeout, all_reported)) {
    for (auto& w : workers_) {
      if (w->reported_final || w->ended) continue;
      problems_.push_back(fmt::format("storm worker {} did not stop within {}s; killed", w->id.pid,
                                      std::chrono::duration_cast<std::chrono::seconds>(options_.stop_timeout).count()));
      kill_and_reap(w->id.pid);
      w->reaped = w->killed = true;
    }
  }
  const auto all_reaped = [this] {
    return std::all_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->reaped; });
  };
  if (!co_await wait_until(clock::now() + std::chrono::seconds(5), all_reaped)) kill_now();
  if (ended_at_ == clock::time_point{}) ended_at_ = clock::now();
}

awaitable<void> storm_fleet::wait_finished() {
  co_await wait_until(clock::time_point::max(), [this] { return finished(); });
}

bool storm_fleet::finished() const {
  return std::all_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->reaped; });
}

awaitable<void> storm_fleet::follow([[maybe_unused]] std::shared_ptr<storm_fleet> self, std::shared_ptr<worker> w) {
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(w->from, asio::dynamic_buffer(w->input), '\n', use_tuple);
    if (ec) break;
    const std::string line = w->input.substr(0, n - 1);
    w->input.erase(0, n);
    on_message(*w, line);
  }
  w->ended = true;
  co_await reap(w);
  if (!w->reported_final && w->error.empty() && !w->killed && w->ready)
    problems_.push_back(fmt::format("storm worker {} {} before it reported", w->id.pid,
                                    describe_exit(w->exit_code.value_or(-1))));
  if (finished() && ended_at_ == clock::time_point{}) ended_at_ = clock::now();
}

awaitable<void> storm_fleet::reap(std::shared_ptr<worker> w) {
  asio::steady_timer timer(executor_);
  for (int i = 0; i < 200 && !w->reaped; ++i) {
    if (auto code = try_reap(w->id.pid)) {
      w->exit_code = *code;
      w->reaped = true;
      break;
    }
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(use_tuple);
  }
  if (!w->reaped) {  // closed its output but would not exit
    kill_and_reap(w->id.pid);
    w->reaped = true;
    w->exit_code = 128 + SIGKILL;
  }
}

void storm_fleet::on_message(worker& w, const std::string& line) {
  try {
    auto j = nlohmann::json::parse(line);
    const auto type = j.at("type").get<std::string>();
    if (type == "hello") {
      w.said_hello = true;
    } else if (type == "ready") {
      w.ready = true;
    } else if (type == "progress") {
      if (j.contains("report")) w.latest = storm_report_from_json(j.at("report"));
      else w.latest.counts = storm_counts_from_json(j.at("counts"));
    } else if (type == "final") {
      w.latest = storm_report_from_json(j.at("report"));
      w.reported_final = true;
    } else if (type == "error") {
      w.error = fmt::format("worker {}: {}", w.id.pid, j.at("message").get<std::string>());
      problems_.push_back(w.error);
    }
    std::int64_t held = 0;
    for (const auto& other : workers_) held += other->latest.counts.held;
    peak_held_ = std::max(peak_held_, held);
  } catch (const std::exception& e) {
    problems_.push_back(fmt::format("storm worker {}: unexpected output '{}' ({})", w.id.pid, line.substr(0, 200), e.what()));
  }
}

storm_report storm_fleet::report() const {
  storm_report total;
  std::int64_t peak = peak_held_;
  for (const auto& w : workers_) {
    total.add(w->latest);
    peak = std::max(peak, w->latest.counts.peak_held);
  }
  total.counts.peak_held = peak;
  total.workers = static_cast<std::int64_t>(workers_.size());
  if (started_) total.elapsed = (ended_at_ != clock::time_point{} ? ended_at_ : clock::now()) - started_at_;
  return total;
}

}  // namespace faultline::storm
