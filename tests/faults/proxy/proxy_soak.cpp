// proxy_soak: checksummed streams through a `faultline proxy` daemon over many loopback
// connections while its toxics and proxies change through the control API.
//   integrity  for each non-dropping toxic (latency, jitter, bandwidth, slicer, slow_close), on
//              both streams at once: --bytes in each direction, split over --connections, while
//              the two toxics are updated, removed and added again; every byte is checked against
//              the pattern it was sent with, and every removal is timed (--removal-limit).
//   api        --clients clients create, update and delete proxies and toxics and reset for
//              --seconds while --connections connections stream through other proxies: no 5xx
//              but the documented one (500: a listener cannot bind), every stream intact.
// Both modes count the daemon's descriptors, threads and listening sockets before and after.
// ctest runs small versions (tests/faults/proxy/CMakeLists.txt), bench/integrity/run.sh the full
// ones. Exit 0 when every check holds, 1 when one fails (each failure is printed), 2 bad usage.

#include "core/histogram.hpp"
#include "core/log.hpp"
#include "core/open_files.hpp"
#include "core/units.hpp"
#include "probes/process_probe.hpp"
#include "tests/faults/proxy/daemon.hpp"
#include "tests/support/eventually.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using faultline::test::http_result;

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

faultline::log_stray_exception logged(const char* what) { return {faultline::logger("proxy_soak"), what}; }
constexpr std::uint64_t unlimited = ~std::uint64_t{0};
constexpr std::size_t chunk_bytes = 64 * 1024;

std::string mib(std::uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / 1048576.0); }

double ms_since(steady::time_point t) { return std::chrono::duration<double, std::milli>(steady::now() - t).count(); }

// ---- the byte pattern ------------------------------------------------------------------------
// Byte i of stream `seed` is byte i % 8 of splitmix64(seed + i / 8): any offset can be produced
// (and so checked) without keeping what was sent.

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void fill_pattern(std::uint64_t seed, std::uint64_t offset, std::uint8_t* out, std::size_t n) {
  while (n > 0) {
    const std::uint64_t word = splitmix64(seed + offset / 8);
    const std::size_t skip = offset % 8;
    const std::size_t take = std::min<std::size_t>(8 - skip, n);
    std::memcpy(out, reinterpret_cast<const std::uint8_t*>(&word) + skip, take);
    out += take;
    offset += take;
    n -= take;
  }
}

std::uint64_t upstream_seed(std::uint64_t id) { return splitmix64(2 * id + 1) << 8; }
std::uint64_t downstream_seed(std::uint64_t id) { return splitmix64(2 * id + 2) << 8; }

// ---- streams ---------------------------------------------------------------------------------

struct direction_result {
  std::uint64_t bytes = 0;
  bool corrupt = false;
  std::uint64_t first_bad = 0;  // offset of the first byte that differs from the pattern
  bool eof = false;             // the stream ended with a clean end of stream
  std::string error;
};

struct connection_result {
  direction_result up;    // as the upstream server received it
  direction_result down;  // as the client received it
  std::uint64_t up_sent = 0, down_sent = 0;
  std::string error;
  bool finished = false;
};

// Reads until the end of the stream, checking every byte against the pattern.
awaitable<void> receive_checked(tcp::socket& s, std::uint64_t seed, direction_result& r) {
  std::vector<std::uint8_t> got(chunk_bytes), want(chunk_bytes);
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(got), tuple);
    if (n > 0) {
      fill_pattern(seed, r.bytes, want.data(), n);
      if (!r.corrupt && std::memcmp(got.data(), want.data(), n) != 0) {
        r.corrupt = true;
        r.first_bad = r.bytes + static_cast<std::uint64_t>(std::mismatch(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(n), want.begin()).first - got.begin());
      }
      r.bytes += n;
    }
    if (ec == asio::error::eof) {
      r.eof = true;
      co_return;
    }
    if (ec) {
      r.error = ec.message();
      co_return;
    }
  }
}

// Sends the pattern until `total` bytes are out or `stop` is set, at most `pace` bytes per second
// (0: as fast as the peer takes them), then ends the stream.
awaitable<void> send_pattern(tcp::socket& s, std::uint64_t seed, std::uint64_t total, const std::atomic<bool>& stop, double pace,
                             std::uint64_t& sent, std::string& error) {
  std::vector<std::uint8_t> buf(pace > 0 ? 16 * 1024 : chunk_bytes);
  asio::steady_timer timer(s.get_executor());
  const auto start = steady::now();
  while (sent < total && !stop) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), total - sent));
    fill_pattern(seed, sent, buf.data(), n);
    auto [ec, w] = co_await asio::async_write(s, asio::buffer(buf.data(), n), tuple);
    sent += w;
    if (ec) {
      error = ec.message();
      co_return;
    }
    if (pace > 0) {
      timer.expires_at(start + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(static_cast<double>(sent) / pace)));
      co_await timer.async_wait(tuple);
    }
  }
  boost::system::error_code ignored;
  s.shutdown(tcp::socket::shutdown_send, ignored);
}

// Many connections through proxies to an upstream server in this process, on one thread: each
// client sends an 8-byte id, then its upstream pattern while it reads and checks its downstream
// pattern; the server checks the upstream pattern and sends the downstream one.
class stream_world {
public:
  stream_world(std::size_t connections, std::uint64_t bytes_each, double pace)
      : results_(connections), bytes_each_(bytes_each), pace_(pace), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ioc_, accept_loop(), logged("upstream listener"));
  }

  stream_world(const stream_world&) = delete;
  stream_world& operator=(const stream_world&) = delete;
  ~stream_world() {
    if (thread_.joinable()) {
      ioc_.stop();
      thread_.join();
    }
  }

  std::uint16_t upstream_port() const { return acceptor_.local_endpoint().port(); }

  // Starts the clients, spread over the proxy ports, on a thread of their own.
  void start(const std::vector<std::uint16_t>& proxy_ports) {
    for (std::size_t i = 0; i < results_.size(); ++i)
      asio::co_spawn(ioc_, client(i, proxy_ports[i % proxy_ports.size()]), logged("stream client"));
    thread_ = std::thread([this] { ioc_.run(); });
  }
  // Unlimited streams end their patterns (the clients first, then the server when it sees them end).
  void stop_sending() { stop_ = true; }
  bool done() const { return finished_ == results_.size(); }
  bool all_connected() const { return connected_ == results_.size(); }
  // Waits for every connection to finish, at most `limit`; then stops the thread either way.
  bool join(std::chrono::milliseconds limit) {
    const bool ok = faultline::test::eventually([this] { return done(); }, limit);
    ioc_.stop();
    thread_.join();
    return ok;
  }
  const std::vector<connection_result>& results() const { return results_; }
  std::uint64_t stray_sessions() const { return stray_; }

private:
  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(tuple);
      if (ec) co_return;
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(ioc_, serve(std::move(socket)), logged("upstream session"));
    }
  }

  awaitable<void> serve(tcp::socket s) {
    std::uint64_t id = 0;
    auto [ec, n] = co_await asio::async_read(s, asio::buffer(&id, sizeof id), tuple);
    if (ec || id >= results_.size()) {
      ++stray_;
      co_return;
    }
    auto& r = results_[id];
    std::atomic<bool> upstream_ended{false};
    // An unlimited stream answers until the client's stream ends; a fixed one sends all of it.
    auto receive = [&]() -> awaitable<void> {
      co_await receive_checked(s, upstream_seed(id), r.up);
      if (bytes_each_ == unlimited) upstream_ended = true;
    };
    std::string send_error;
    co_await (receive() && send_pattern(s, downstream_seed(id), bytes_each_, upstream_ended, pace_, r.down_sent, send_error));
    if (!send_error.empty() && r.error.empty()) r.error = "upstream server send: " + send_error;
  }

  awaitable<void> client(std::size_t id, std::uint16_t port) {
    auto& r = results_[id];
    tcp::socket s(ioc_);
    auto [ec] = co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, tuple);
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::uint64_t header = id;
      auto [wec, w] = co_await asio::async_write(s, asio::buffer(&header, sizeof header), tuple);
      ec = wec;
    }
    ++connected_;
    if (ec) {
      r.error = "client connect: " + ec.message();
    } else {
      std::string send_error;
      co_await (send_pattern(s, upstream_seed(id), bytes_each_, stop_, pace_, r.up_sent, send_error) &&
                receive_checked(s, downstream_seed(id), r.down));
      if (!send_error.empty()) r.error = "client send: " + send_error;
    }
    r.finished = true;
    if (++finished_ == results_.size()) acceptor_.close();
  }

  std::vector<connection_result> results_;
  std::uint64_t bytes_each_;
  double pace_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> finished_{0}, connected_{0};
  std::uint64_t stray_ = 0;
};

// ---- checks and reports ----------------------------------------------------------------------

struct checks {
  std::vector<std::string> failures;
  void expect(bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  }
};

// Every stream arrived whole: all of its bytes (when fixed), each as sent, and a clean end.
void check_streams(const stream_world& w, std::uint64_t bytes_each, const std::string& phase, checks& c) {
  std::size_t intact = 0;
  std::uint64_t up = 0, down = 0;
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < w.results().size(); ++i) {
    const auto& r = w.results()[i];
    up += r.up.bytes;
    down += r.down.bytes;
    std::string why;
    if (!r.finished) why = "did not finish";
    else if (!r.error.empty()) why = r.error;
    else if (r.up.corrupt) why = fmt::format("upstream byte {} differs from what was sent", r.up.first_bad);
    else if (r.down.corrupt) why = fmt::format("downstream byte {} differs from what was sent", r.down.first_bad);
    else if (!r.up.eof || !r.down.eof) why = fmt::format("no clean end of stream (upstream: {}, downstream: {})", r.up.eof ? "ok" : r.up.error,
                                                         r.down.eof ? "ok" : r.down.error);
    else if (bytes_each != unlimited && (r.up.bytes != bytes_each || r.down.bytes != bytes_each))
      why = fmt::format("{} bytes upstream and {} downstream of {}", r.up.bytes, r.down.bytes, bytes_each);
    else if (bytes_each == unlimited && (r.up.bytes == 0 || r.down.bytes == 0)) why = "no bytes moved";
    else if (r.up.bytes != r.up_sent || r.down.bytes != r.down_sent)
      why = fmt::format("sent {} and {}, received {} and {}", r.up_sent, r.down_sent, r.up.bytes, r.down.bytes);
    if (why.empty()) ++intact;
    else if (problems.size() < 5) problems.push_back(fmt::format("connection {}: {}", i, why));
  }
  std::cout << fmt::format("{}: {} of {} connections intact, {} upstream, {} downstream\n", phase, intact, w.results().size(),
                           mib(up), mib(down));
  for (const auto& p : problems) c.failures.push_back(phase + ": " + p);
  c.expect(intact == w.results().size(), fmt::format("{}: {} of {} connections broken", phase, w.results().size() - intact, w.results().size()));
  c.expect(w.stray_sessions() == 0, fmt::format("{}: {} upstream sessions without a valid id", phase, w.stray_sessions()));
}

void require(const http_result& r, unsigned status, const std::string& what);
std::uint16_t create_proxy(const std::string& api, const std::string& name, std::uint16_t upstream);

struct daemon_usage {
  std::int64_t fds = 0, threads = 0, listeners = 0;
  bool operator==(const daemon_usage&) const = default;
  std::string text() const { return fmt::format("{} descriptors, {} threads, {} listening sockets", fds, threads, listeners); }
};

daemon_usage usage_of(pid_t pid) {
  auto u = faultline::probes::read_process_usage(pid);
  if (!u || !u->fds || !u->tcp) throw std::runtime_error(fmt::format("cannot read /proc/{} (run as root or as its user)", pid));
  return {*u->fds, u->threads, (*u->tcp)[10]};  // 10: TCP_LISTEN
}

// The daemon's usage with no proxy once it holds still (two reads 50 ms apart agree), after one
// proxy was created and deleted: each proxy thread's io_context opens its reactor's descriptors
// (epoll, eventfd, timerfd) on first use and keeps them. This is what it must come back to.
daemon_usage idle_usage(const faultline::test::daemon_process& daemon) {
  create_proxy(daemon.api, "warm_up", 9);
  require(faultline::test::http(daemon.api, "DELETE", "/proxies/warm_up"), 204, "delete proxy warm_up");
  const pid_t pid = daemon.pid();
  daemon_usage now = usage_of(pid), last;
  faultline::test::eventually([&] {
    last = now;
    std::this_thread::sleep_for(50ms);
    return (now = usage_of(pid)) == last;
  }, 5s);
  return now;
}

// Waits for the daemon to close what the run opened, then compares with `before`.
void check_no_leak(pid_t pid, const daemon_usage& before, checks& c) {
  daemon_usage after;
  faultline::test::eventually([&] { return (after = usage_of(pid)) == before; }, 15s);
  std::cout << fmt::format("daemon before: {}\ndaemon after:  {}\n", before.text(), after.text());
  c.expect(after == before, fmt::format("the daemon holds {} after the run, {} before", after.text(), before.text()));
}

void require(const http_result& r, unsigned status, const std::string& what) {
  if (r.status != status) throw std::runtime_error(fmt::format("{}: answered {} {}", what, r.status, r.body));
}

std::uint16_t create_proxy(const std::string& api, const std::string& name, std::uint16_t upstream) {
  auto r = faultline::test::http(api, "POST", "/proxies",
                                 nlohmann::json{{"name", name}, {"listen", "127.0.0.1:0"}, {"upstream", fmt::format("127.0.0.1:{}", upstream)}}.dump());
  require(r, 201, "create proxy " + name);
  const auto listen = nlohmann::json::parse(r.body).at("listen").get<std::string>();
  return static_cast<std::uint16_t>(std::stoi(listen.substr(listen.rfind(':') + 1)));
}

// ---- integrity -------------------------------------------------------------------------------

struct toxic_plan {
  std::string name;  // as the report says it
  std::string type;
  // Attributes for the i-th change: each update moves them, so updates take effect mid-stream.
  std::function<nlohmann::json(int)> attributes;
};

std::vector<toxic_plan> non_dropping_toxics() {
  return {
      {"latency", "latency", [](int i) { return nlohmann::json{{"latency", 5 + 5 * (i % 3)}, {"jitter", 0}}; }},
      {"jitter", "latency", [](int i) { return nlohmann::json{{"latency", 20}, {"jitter", 5 + 10 * (i % 2)}}; }},
      {"bandwidth", "bandwidth", [](int i) { return nlohmann::json{{"rate", 512 + 512 * (i % 2)}}; }},  // KB/s per connection
      {"slicer", "slicer", [](int i) { return nlohmann::json{{"average_size", 2048 + 1024 * (i % 2)}, {"size_variation", 512}, {"delay", 10}}; }},
      {"slow_close", "slow_close", [](int i) { return nlohmann::json{{"delay", 50 + 50 * (i % 2)}}; }},
  };
}

struct integrity_options {
  std::uint64_t bytes = 64ull << 20;  // each direction, per toxic
  std::size_t connections = 100;
  double removal_limit_ms = 100;
  std::chrono::seconds timeout{300};
  std::set<std::string> only;
};

void run_integrity(const integrity_options& o, checks& c) {
  faultline::test::daemon_process daemon;
  const auto idle = idle_usage(daemon);
  const std::uint64_t each = o.bytes / o.connections;
  for (const auto& t : non_dropping_toxics()) {
    if (!o.only.empty() && !o.only.contains(t.name)) continue;
    stream_world world(o.connections, each, 0);
    const auto proxy = "soak_" + t.name;
    const auto port = create_proxy(daemon.api, proxy, world.upstream_port());
    auto add = [&](const std::string& stream, int i) {
      require(faultline::test::http(daemon.api, "POST", "/proxies/" + proxy + "/toxics",
                                    nlohmann::json{{"name", t.name + "_" + stream}, {"type", t.type}, {"stream", stream},
                                                   {"attributes", t.attributes(i)}}.dump()),
              200, "add " + t.name + " " + stream);
    };
    add("upstream", 0);
    add("downstream", 0);
    const auto started = steady::now();
    world.start({port});
    // Until every stream is through: update both toxics, then remove and add back each in turn.
    faultline::histogram removal;
    double slowest = 0;
    int adds = 2, updates = 0, removes = 0;
    for (int i = 1; !world.done() && steady::now() - started < o.timeout; ++i) {
      for (const char* stream : {"upstream", "downstream"}) {
        require(faultline::test::http(daemon.api, "POST", "/proxies/" + proxy + "/toxics/" + t.name + "_" + stream,
                                      nlohmann::json{{"attributes", t.attributes(i)}}.dump()),
                200, "update " + t.name);
        ++updates;
      }
      // Removed and added back at once: the toxics act nearly all the time (a removal lets the
      // held data through at full speed), and each change lands mid-stream.
      for (const char* stream : {"upstream", "downstream"}) {
        std::this_thread::sleep_for(30ms);  // pacing of the changes, not a wait for anything
        const auto t0 = steady::now();
        require(faultline::test::http(daemon.api, "DELETE", "/proxies/" + proxy + "/toxics/" + t.name + "_" + stream), 204, "remove " + t.name);
        const auto took = steady::now() - t0;
        removal.record(std::chrono::duration_cast<std::chrono::nanoseconds>(took));
        slowest = std::max(slowest, std::chrono::duration<double, std::milli>(took).count());
        ++removes;
        add(stream, i);
        ++adds;
      }
    }
    const bool all_done = world.join(o.timeout - std::chrono::duration_cast<std::chrono::seconds>(steady::now() - started) + 5s);
    const double seconds = ms_since(started) / 1000;
    const auto p99 = std::chrono::duration<double, std::milli>(removal.percentile(99)).count();
    std::cout << fmt::format("{}: {} each way in {:.1f} s over {} connections ({:.0f} MB/s each way); {} adds, {} updates, {} removals: "
                             "removal answered in p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms\n",
                             t.name, mib(each * o.connections), seconds, o.connections,
                             static_cast<double>(each * o.connections) / seconds / 1e6, adds, updates, removes,
                             std::chrono::duration<double, std::milli>(removal.percentile(50)).count(), p99, slowest);
    c.expect(all_done, fmt::format("{}: the streams did not finish within {} s", t.name, o.timeout.count()));
    check_streams(world, each, t.name, c);
    c.expect(removes > 0, t.name + ": no toxic was removed while the streams ran");
    c.expect(slowest <= o.removal_limit_ms,
             fmt::format("{}: a toxic removal took {:.1f} ms (limit {:.0f} ms)", t.name, slowest, o.removal_limit_ms));
    require(faultline::test::http(daemon.api, "DELETE", "/proxies/" + proxy), 204, "delete proxy");
    check_no_leak(daemon.pid(), idle, c);
  }
  c.expect(daemon.stop() == 0, "the daemon did not exit cleanly on SIGTERM");
}

// ---- api -------------------------------------------------------------------------------------

struct api_options {
  std::size_t clients = 200;
  std::size_t connections = 1000;
  std::size_t stream_proxies = 10;
  std::chrono::seconds duration{10};
  double pace = 64 * 1024;  // bytes per second per connection and direction
};

struct hammer_stats {
  std::mutex mutex;
  std::map<unsigned, std::uint64_t> statuses;
  std::uint64_t requests = 0, documented_5xx = 0;
  std::vector<std::string> failures;
  faultline::histogram latency;
};

// One API client on a keep-alive connection (reconnected when the daemon closes it).
class api_client {
public:
  api_client(asio::any_io_executor ex, tcp::endpoint api, hammer_stats& stats) : stream_(ex), api_(api), stats_(stats) {}

  // One request; the answer's status must be `ok` or `also_ok` (or the documented 500 of a listener that
  // cannot bind). Returns the status (0: no answer).
  awaitable<unsigned> call(http::verb verb, std::string target, std::string body, unsigned ok, unsigned also_ok = 0) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    req.prepare_payload();
    http::response<http::string_body> res;
    const auto t0 = steady::now();
    boost::system::error_code ec;
    for (int attempt = 0; attempt < 2; ++attempt) {
      ec = {};
      if (!connected_) {
        stream_.expires_after(10s);
        auto [cec] = co_await stream_.async_connect(api_, tuple);
        if (cec) {
          ec = cec;
          continue;
        }
        connected_ = true;
      }
      stream_.expires_after(30s);
      auto [wec, w] = co_await http::async_write(stream_, req, tuple);
      if (!wec) {
        res = {};
        buffer_.clear();
        auto [rec, r] = co_await http::async_read(stream_, buffer_, res, tuple);
        ec = rec;
      } else {
        ec = wec;
      }
      if (!ec) break;
      // A keep-alive connection the daemon closed (idle timeout): once more on a new one.
      boost::system::error_code ignored;
      stream_.socket().close(ignored);
      connected_ = false;
    }
    const auto status = ec ? 0u : res.result_int();
    std::lock_guard lock(stats_.mutex);
    ++stats_.requests;
    ++stats_.statuses[status];
    stats_.latency.record(std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - t0));
    const bool documented = status == 500 && res.body().find("address already in use") != std::string::npos;
    stats_.documented_5xx += documented;
    if (status != ok && (also_ok == 0 || status != also_ok) && !documented && stats_.failures.size() < 20)
      stats_.failures.push_back(fmt::format("{} {} -> {} {}{}", std::string(http::to_string(verb)), target, status, res.body(),
                                            ec ? " (" + ec.message() + ")" : ""));
    if (!res.keep_alive()) {
      boost::system::error_code ignored;
      stream_.socket().close(ignored);
      connected_ = false;
    }
    co_return status;
  }

  void close() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  tcp::endpoint api_;
  hammer_stats& stats_;
  bool connected_ = false;
};

// Client `n`: its own proxy h<n> (created, toxic added, updated, disabled, enabled, deleted) and
// its own toxic s<n> on a streaming proxy; now and then a reset. Another client's reset may
// remove its toxics first (404 then), or enable its proxy.
awaitable<void> hammer(std::size_t n, tcp::endpoint api, std::uint16_t upstream, std::size_t stream_proxies, steady::time_point until,
                       hammer_stats& stats) {
  api_client c(co_await asio::this_coro::executor, api, stats);
  using http::verb;
  const auto proxy = fmt::format("h{}", n);
  const auto toxic = fmt::format("t{}", n);
  const auto mine = fmt::format("/proxies/{}", proxy);
  const auto streaming = fmt::format("/proxies/stream{}", n % stream_proxies);
  const auto on_stream = fmt::format("s{}", n);
  const auto stream_dir = n % 2 ? "upstream" : "downstream";
  // The bodies are built outside the co_await expressions: GCC 12 cannot keep an initializer
  // list's array alive across a suspension ("array used as initializer").
  const auto create = nlohmann::json{{"name", proxy}, {"listen", "127.0.0.1:0"}, {"upstream", fmt::format("127.0.0.1:{}", upstream)}}.dump();
  const auto add_toxic = nlohmann::json{{"name", toxic}, {"type", "latency"}, {"attributes", {{"latency", 10}}}}.dump();
  const auto add_on_stream =
      nlohmann::json{{"name", on_stream}, {"type", "latency"}, {"stream", stream_dir}, {"attributes", {{"latency", 1}}}}.dump();
  const auto update_on_stream = nlohmann::json{{"attributes", {{"jitter", 1}}}}.dump();
  for (int i = 0; steady::now() < until; ++i) {
    const auto update_toxic = nlohmann::json{{"attributes", {{"latency", 20 + i % 10}}}}.dump();
    co_await c.call(verb::post, "/proxies", create, 201);
    co_await c.call(verb::post, mine + "/toxics", add_toxic, 200);
    co_await c.call(verb::post, mine + "/toxics/" + toxic, update_toxic, 200, 404);
    co_await c.call(verb::post, mine, R"({"enabled":false})", 200);
    co_await c.call(verb::post, mine, R"({"enabled":true})", 200);
    co_await c.call(verb::get, mine, "", 200);
    co_await c.call(verb::post, streaming + "/toxics", add_on_stream, 200);
    co_await c.call(verb::patch, streaming + "/toxics/" + on_stream, update_on_stream, 200, 404);
    if ((n + static_cast<std::size_t>(i)) % 50 == 0) co_await c.call(verb::post, "/reset", "", 204);
    co_await c.call(verb::delete_, streaming + "/toxics/" + on_stream, "", 204, 404);
    co_await c.call(verb::delete_, mine + "/toxics/" + toxic, "", 204, 404);
    co_await c.call(verb::delete_, mine, "", 204);
  }
  c.close();
}

void run_api(const api_options& o, checks& c) {
  faultline::test::daemon_process daemon;
  const auto idle = idle_usage(daemon);
  stream_world world(o.connections, unlimited, o.pace);
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < o.stream_proxies; ++i) ports.push_back(create_proxy(daemon.api, fmt::format("stream{}", i), world.upstream_port()));
  world.start(ports);
  // Every stream connected before the clients start.
  c.expect(faultline::test::eventually([&] { return world.all_connected(); }, 60s), "api: the streams did not all connect within 60 s");

  hammer_stats stats;
  asio::io_context ioc;
  const auto colon = daemon.api.rfind(':');
  const tcp::endpoint api{asio::ip::make_address(daemon.api.substr(0, colon)),
                          static_cast<std::uint16_t>(std::stoi(daemon.api.substr(colon + 1)))};
  const auto started = steady::now();
  for (std::size_t n = 0; n < o.clients; ++n)
    asio::co_spawn(ioc, hammer(n, api, world.upstream_port(), o.stream_proxies, started + o.duration, stats),
                   logged("api client"));
  ioc.run();
  const double seconds = ms_since(started) / 1000;
  world.stop_sending();
  const bool all_done = world.join(60s);

  std::string statuses;
  for (const auto& [status, count] : stats.statuses) statuses += fmt::format("{}{}: {}", statuses.empty() ? "" : ", ", status, count);
  std::cout << fmt::format("api: {} clients, {} requests in {:.1f} s ({:.0f}/s), answered in p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms; "
                           "statuses {} ({} documented 500s: a listener that could not bind)\n",
                           o.clients, stats.requests, seconds, static_cast<double>(stats.requests) / seconds,
                           std::chrono::duration<double, std::milli>(stats.latency.percentile(50)).count(),
                           std::chrono::duration<double, std::milli>(stats.latency.percentile(99)).count(),
                           std::chrono::duration<double, std::milli>(stats.latency.max()).count(), statuses, stats.documented_5xx);
  for (const auto& f : stats.failures) c.failures.push_back("api: unexpected answer: " + f);
  c.expect(stats.failures.empty(), "api: answers other than the expected ones (above)");
  c.expect(stats.statuses[0] == 0, fmt::format("api: {} requests got no answer", stats.statuses[0]));
  c.expect(all_done, "api: the streams did not end within 60 s of the stop");
  check_streams(world, unlimited, "api streams", c);

  // Only the streaming proxies are left, without toxics.
  auto list = faultline::test::http(daemon.api, "GET", "/proxies");
  auto proxies = nlohmann::json::parse(list.body);
  c.expect(proxies.size() == o.stream_proxies, fmt::format("api: {} proxies left, {} expected: {}", proxies.size(), o.stream_proxies, list.body));
  for (const auto& [name, p] : proxies.items())
    c.expect(p.at("toxics").empty(), fmt::format("api: proxy {} keeps toxics: {}", name, p.at("toxics").dump()));
  for (std::size_t i = 0; i < o.stream_proxies; ++i)
    require(faultline::test::http(daemon.api, "DELETE", fmt::format("/proxies/stream{}", i)), 204, "delete proxy");
  check_no_leak(daemon.pid(), idle, c);
  c.expect(daemon.stop() == 0, "the daemon did not exit cleanly on SIGTERM");
}

// ---- command line ----------------------------------------------------------------------------

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "proxy_soak: " << why << "\n"
            << "usage: proxy_soak integrity [--bytes SIZE] [--connections N] [--removal-limit DURATION] [--timeout DURATION] [--only TOXIC]...\n"
            << "       proxy_soak api [--clients N] [--connections N] [--proxies N] [--duration DURATION] [--pace BANDWIDTH]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("no mode");
  const std::string mode = argv[1];
  std::map<std::string, std::vector<std::string>> opts;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc || std::strncmp(argv[i], "--", 2) != 0) usage(fmt::format("'{}' needs a value", argv[i]));
    opts[argv[i] + 2].push_back(argv[i + 1]);
  }
  auto take = [&](const char* name) -> std::optional<std::string> {
    auto it = opts.find(name);
    if (it == opts.end()) return std::nullopt;
    auto v = it->second.back();
    opts.erase(it);
    return v;
  };
  checks c;
  try {
    faultline::raise_open_files_limit();
    if (mode == "integrity") {
      integrity_options o;
      if (auto v = take("bytes")) o.bytes = static_cast<std::uint64_t>(faultline::parse_size(*v));
      if (auto v = take("connections")) o.connections = static_cast<std::size_t>(faultline::parse_integer(*v));
      if (auto v = take("removal-limit")) o.removal_limit_ms = std::chrono::duration<double, std::milli>(faultline::parse_duration(*v)).count();
      if (auto v = take("timeout")) o.timeout = std::chrono::duration_cast<std::chrono::seconds>(faultline::parse_duration(*v));
      if (auto it = opts.find("only"); it != opts.end()) {
        o.only.insert(it->second.begin(), it->second.end());
        opts.erase(it);
      }
      if (!opts.empty()) usage("unknown option --" + opts.begin()->first);
      if (o.connections == 0 || o.bytes < o.connections) usage("--bytes must be at least --connections");
      run_integrity(o, c);
    } else if (mode == "api") {
      api_options o;
      if (auto v = take("clients")) o.clients = static_cast<std::size_t>(faultline::parse_integer(*v));
      if (auto v = take("connections")) o.connections = static_cast<std::size_t>(faultline::parse_integer(*v));
      if (auto v = take("proxies")) o.stream_proxies = static_cast<std::size_t>(faultline::parse_integer(*v));
      if (auto v = take("duration")) o.duration = std::chrono::duration_cast<std::chrono::seconds>(faultline::parse_duration(*v));
      if (auto v = take("pace")) o.pace = faultline::parse_bandwidth(*v);
      if (!opts.empty()) usage("unknown option --" + opts.begin()->first);
      if (o.clients == 0 || o.connections == 0 || o.stream_proxies == 0) usage("--clients, --connections and --proxies must be at least 1");
      run_api(o, c);
    } else {
      usage("unknown mode '" + mode + "'");
    }
  } catch (const std::exception& e) {
    c.failures.push_back(std::string("error: ") + e.what());
  }
  for (const auto& f : c.failures) std::cout << "FAILED: " << f << "\n";
  std::cout << (c.failures.empty() ? "all checks passed\n" : "some checks failed\n");
  return c.failures.empty() ? 0 : 1;
}
