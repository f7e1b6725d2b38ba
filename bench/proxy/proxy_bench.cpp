// Benchmarks of the TCP fault proxy (no toxics) against a direct loopback connection and,
// optionally, another proxy command:
//   throughput  one connection streams --bytes to a sink; MB/s, median of --runs
//   latency     64-byte request/response at --rate req/s for --seconds over 50 connections, open
//               model (latency from the intended send time); p50/p99/p99.9 and the added p99
//   idle        --idle connections held open through --daemons faultline daemons; their RSS
//   toxic       throughput with a --toxic-latency ms latency toxic on the direction the bulk
//               flows, client->server and server->client, each against direct in that direction
//   precision   one kept-alive connection, 64-byte request/response one at a time: --samples
//               round trips without a toxic, then with a --precision-latency ms latency toxic
//               downstream; the toxic's error per round trip is (round trip - latency - the
//               median round trip without it); its median and p99, medians of --runs. Also
//               against the median round trip without it after the same idle pause: the error
//               less what waking the client, the proxy and the echo server from idle costs
// --api-peer "<command with {api_port}>" adds any daemon with Toxiproxy's HTTP API (e.g.
// "toxiproxy-server -host 127.0.0.1 -port {api_port}") to throughput, latency and toxic: the
// benchmark creates its proxy and toxics through that API, as it does for faultline.
// The proxy runs as a separate process (`faultline proxy`), as a peer proxy would.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

void rethrow(std::exception_ptr e);

// ---- processes -------------------------------------------------------------------------------

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) throw std::runtime_error("cannot start " + argv[0]);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) return;
    std::this_thread::sleep_for(10ms);
  }
  ::kill(pid, SIGKILL);
  int status;
  ::waitpid(pid, &status, 0);
}

// Waits until `log` contains `marker`; returns the word after it.
std::string wait_for_word(const std::filesystem::path& log, const std::string& marker) {
  for (int i = 0; i < 1000; ++i) {
    auto text = slurp(log);
    if (auto at = text.find(marker); at != std::string::npos) {
      auto start = at + marker.size();
      auto end = text.find_first_of(" \n", start);
      if (end != std::string::npos) return text.substr(start, end - start);
    }
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("no '" + marker + "' in " + log.string() + ":\n" + slurp(log));
}

// CPU seconds (user + system) of a process and its children (nginx's workers).
double cpu_seconds(pid_t pid) {
  auto one = [](const std::filesystem::path& stat, pid_t* parent) {
    std::ifstream in(stat);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto close = text.rfind(')');
    if (close == std::string::npos) return 0.0;
    std::istringstream fields(text.substr(close + 2));
    std::string state;
    long ppid = 0;
    fields >> state >> ppid;
    std::string skip;
    for (int i = 0; i < 9; ++i) fields >> skip;
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    if (parent) *parent = static_cast<pid_t>(ppid);
    return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  };
  double total = one("/proc/" + std::to_string(pid) + "/stat", nullptr);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    pid_t parent = 0;
    auto cpu = one(entry.path() / "stat", &parent);
    if (parent == pid) total += cpu;
  }
  return total;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// One HTTP/1.1 request on a new connection; POSTs send JSON and fail on an error status.
std::string http_call(http::verb method, const std::string& address, const std::string& target, const std::string& body = {}) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  tcp::socket socket(ioc);
  auto colon = address.rfind(':');
  asio::connect(socket, resolver.resolve(address.substr(0, colon), address.substr(colon + 1)));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, address);
  if (method == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  if (method == http::verb::post && res.result_int() >= 300) throw std::runtime_error("POST " + target + ": " + res.body());
  return res.body();
}

std::string http_get(const std::string& address, const std::string& target) { return http_call(http::verb::get, address, target); }
std::string http_post(const std::string& address, const std::string& target, const std::string& body) {
  return http_call(http::verb::post, address, target, body);
}

// A `faultline proxy` daemon with one proxy named "bench" to `upstream`.
struct proxy_daemon {
  pid_t pid = 0;
  std::string api;
  std::string listen;
  proxy_daemon(const std::string& binary, const std::filesystem::path& dir, const std::string& upstream, int index) {
    auto config = dir / ("proxies-" + std::to_string(index) + ".json");
    std::ofstream(config) << R"([{"name":"bench","listen":"127.0.0.1:0","upstream":")" << upstream << R"("}])";
    auto log = dir / ("daemon-" + std::to_string(index) + ".log");
    pid = spawn({binary, "proxy", "--api", "127.0.0.1:0", "--config", config.string()}, log);
    api = wait_for_word(log, "control API on http://");
    listen = nlohmann::json::parse(http_get(api, "/proxies/bench"))["listen"];
  }
  ~proxy_daemon() { stop(pid); }
};

std::uint16_t free_port() {
  asio::io_context ioc;
  tcp::acceptor probe(ioc, {asio::ip::address_v4::loopback(), 0});
  return probe.local_endpoint().port();
}

// Any daemon with Toxiproxy's HTTP API (Toxiproxy itself, or faultline): `command` with an
// {api_port} placeholder, run by /bin/sh; the benchmark creates the proxy "bench" through the API.
struct api_daemon {
  pid_t pid = 0;
  std::string api;
  std::string listen;
  api_daemon(std::string command, const std::filesystem::path& dir, const std::string& upstream, const std::string& name) {
    api = "127.0.0.1:" + std::to_string(free_port());
    for (auto at = command.find("{api_port}"); at != std::string::npos; at = command.find("{api_port}"))
      command.replace(at, 10, api.substr(api.find(':') + 1));
    pid = spawn({"/bin/sh", "-c", "exec " + command}, dir / ("api-daemon-" + name + ".log"));
    for (int i = 0;; ++i) {  // until the API answers
      try {
        http_get(api, "/proxies");
        break;
      } catch (const std::exception&) {
        if (i == 500) throw std::runtime_error("no API on " + api + " from: " + command);
        std::this_thread::sleep_for(10ms);
      }
    }
    listen = "127.0.0.1:" + std::to_string(free_port());
    http_post(api, "/proxies", nlohmann::json{{"name", "bench"}, {"listen", listen}, {"upstream", upstream}, {"enabled", true}}.dump());
  }
  ~api_daemon() { stop(pid); }
};

// A peer proxy command with {listen_port} and {upstream_port} placeholders, run by /bin/sh.
struct peer {
  pid_t pid = 0;
  std::string listen;
  peer(std::string command, const std::filesystem::path& dir, std::uint16_t upstream_port) {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, {asio::ip::address_v4::loopback(), 0});
    auto port = probe.local_endpoint().port();
    probe.close();
    auto fill = [&](const std::string& key, const std::string& value) {
      for (auto at = command.find(key); at != std::string::npos; at = command.find(key)) command.replace(at, key.size(), value);
    };
    fill("{listen_port}", std::to_string(port));
    fill("{upstream_port}", std::to_string(upstream_port));
    pid = spawn({"/bin/sh", "-c", "exec " + command}, dir / "peer.log");
    listen = "127.0.0.1:" + std::to_string(port);
    for (int i = 0; i < 500; ++i) {  // until it accepts
      tcp::socket s(ioc);
      boost::system::error_code ec;
      s.connect({asio::ip::address_v4::loopback(), port}, ec);
      if (!ec) return;
      std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("peer did not listen: " + command);
  }
  ~peer() { stop(pid); }
};

// ---- upstream servers (in this process) --------------------------------------------------------

class upstream_server {
public:
  // sink: reads an 8-byte count and that many bytes, answers "done"; echo; source: reads an
  // 8-byte count, sends that many bytes
  enum class mode { sink, echo, source };
  explicit upstream_server(mode m) : mode_(m), acceptor_(ioc_, {asio::ip::address_v4::loopback(), 0}) {
    asio::co_spawn(ioc_, accept(), rethrow);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~upstream_server() {
    ioc_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }

private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, s] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      s.set_option(tcp::no_delay(true));
      asio::co_spawn(ioc_, serve(std::move(s)), rethrow);
    }
  }
  asio::awaitable<void> serve(tcp::socket s) {
    std::vector<char> buf(256 * 1024);
    if (mode_ == mode::sink) {
      // An 8-byte count, then that many bytes, then "done": no half-close needed (Toxiproxy
      // closes the whole connection on a client's FIN).
      std::uint64_t count = 0;
      auto [rec, rn] = co_await asio::async_read(s, asio::buffer(&count, sizeof count), asio::as_tuple(asio::use_awaitable));
      if (rec) co_return;
      for (std::uint64_t got = 0; got < count;) {
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf.data(), std::min<std::uint64_t>(buf.size(), count - got)),
                                                  asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        got += n;
      }
      co_await asio::async_write(s, asio::buffer("done", 4), asio::as_tuple(asio::use_awaitable));
      co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));  // until the client closes
      co_return;
    }
    if (mode_ == mode::source) {
      std::uint64_t count = 0;
      auto [rec, rn] = co_await asio::async_read(s, asio::buffer(&count, sizeof count), asio::as_tuple(asio::use_awaitable));
      if (rec) co_return;
      for (std::uint64_t sent = 0; sent < count; sent += buf.size()) {
        auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf.data(), std::min<std::uint64_t>(buf.size(), count - sent)),
                                                    asio::as_tuple(asio::use_awaitable));
        if (wec) co_return;
      }
      boost::system::error_code ignored;
      s.shutdown(tcp::socket::shutdown_send, ignored);
      co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));  // until the client closes
      co_return;
    }
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      if (mode_ == mode::echo) {
        auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
        if (wec) co_return;
      }
    }
    boost::system::error_code ignored;
    s.shutdown(tcp::socket::shutdown_send, ignored);
  }

  mode mode_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

tcp::endpoint endpoint_of(const std::string& address) {
  auto colon = address.rfind(':');
  return {asio::ip::make_address(address.substr(0, colon)), static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))};
}

// Completion handler for co_spawn: an exception ends io_context::run() and the benchmark.
void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// ---- measurements ------------------------------------------------------------------------------

double throughput_mb_s(const std::string& target, std::uint64_t bytes) {
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(endpoint_of(target));
  std::vector<char> block(256 * 1024, 'x');
  auto start = clock_type::now();
  asio::write(s, asio::buffer(&bytes, sizeof bytes));
  for (std::uint64_t sent = 0; sent < bytes; sent += block.size())
    asio::write(s, asio::buffer(block.data(), std::min<std::uint64_t>(block.size(), bytes - sent)));
  char reply[4];
  asio::read(s, asio::buffer(reply));
  std::chrono::duration<double> took = clock_type::now() - start;
  return static_cast<double>(bytes) / 1e6 / took.count();
}

// server->client: asks a source server for `bytes` and reads them to its end.
double download_mb_s(const std::string& target, std::uint64_t bytes) {
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(endpoint_of(target));
  std::vector<char> block(256 * 1024);
  auto start = clock_type::now();
  asio::write(s, asio::buffer(&bytes, sizeof bytes));
  std::uint64_t got = 0;
  for (;;) {
    boost::system::error_code ec;
    auto n = s.read_some(asio::buffer(block), ec);
    got += n;
    if (ec) break;
  }
  std::chrono::duration<double> took = clock_type::now() - start;
  if (got != bytes) throw std::runtime_error("download got " + std::to_string(got) + " of " + std::to_string(bytes) + " bytes");
  return static_cast<double>(bytes) / 1e6 / took.count();
}

struct latency_result {
  double p50_us, p99_us, p999_us;
  std::size_t samples;
};

// Open-model request/response on `connections` connections per target, on one client thread;
// several targets run at once, their sends interleaved. main() runs one target per round and
// alternates the targets between rounds.
std::vector<latency_result> request_response(const std::vector<std::string>& targets, double rate, double seconds) {
  constexpr int connections = 50;
  asio::io_context ioc(1);
  std::vector<std::vector<double>> latencies(targets.size());
  const auto interval = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(connections / rate));
  const auto start = clock_type::now() + 300ms;
  const auto per_connection = static_cast<int>(rate * seconds / connections);
  for (std::size_t t = 0; t < targets.size(); ++t) {
    latencies[t].reserve(static_cast<std::size_t>(rate * seconds) + 16);
    for (int c = 0; c < connections; ++c) {
      asio::co_spawn(ioc, [&, t, c]() -> asio::awaitable<void> {
        tcp::socket s(ioc);
        s.connect(endpoint_of(targets[t]));
        s.set_option(tcp::no_delay(true));
        asio::steady_timer timer(ioc);
        char msg[64] = {};
        char reply[64];
        // Connections (and targets) spread evenly over the interval.
        const auto slot = static_cast<int>(c * targets.size() + t);
        const auto offset = interval * slot / static_cast<int>(connections * targets.size());
        for (int k = 0; k < per_connection; ++k) {
          const auto intended = start + offset + interval * k;
          timer.expires_at(intended);
          co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          auto [wec, wn] = co_await asio::async_write(s, asio::buffer(msg), asio::as_tuple(asio::use_awaitable));
          auto [rec, rn] = co_await asio::async_read(s, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
          if (wec || rec) co_return;
          latencies[t].push_back(std::chrono::duration<double, std::micro>(clock_type::now() - intended).count());
        }
      }, rethrow);
    }
  }
  ioc.run();
  std::vector<latency_result> out;
  for (auto& l : latencies) {
    std::sort(l.begin(), l.end());
    auto at = [&](double q) { return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<std::size_t>(q * l.size()))]; };
    out.push_back({at(0.50), at(0.99), at(0.999), l.size()});
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

// Round trips in microseconds of 64-byte messages on one kept-alive connection, one at a time.
// idle: a pause before each round trip (every process on the path goes idle, as it does while
// a latency toxic holds the reply).
std::vector<double> round_trips(tcp::socket& s, int count, std::chrono::microseconds idle = {}) {
  char msg[64] = {};
  char reply[64];
  std::vector<double> out;
  for (int i = 0; i < count; ++i) {
    if (idle.count() > 0) std::this_thread::sleep_for(idle);
    auto start = clock_type::now();
    asio::write(s, asio::buffer(msg));
    asio::read(s, asio::buffer(reply));
    out.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
  }
  return out;
}

struct options {
  std::string binary = FAULTLINE_BINARY;
  std::string peer;
  std::string peer_name = "peer";
  std::string api_peer;  // a Toxiproxy-API daemon command with {api_port}
  std::string api_peer_name = "toxiproxy";
  std::uint64_t bytes = 2ULL << 30;
  int runs = 3;
  double rate = 5000;
  double seconds = 10;
  int idle = 0;
  int daemons = 1;
  double toxic_latency_ms = 10;  // whole milliseconds: Toxiproxy's API takes integers
  double precision_latency_ms = 50;
  int samples = 100;
  std::vector<std::string> only;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--faultline") o.binary = next();
    else if (a == "--peer") o.peer = next();
    else if (a == "--peer-name") o.peer_name = next();
    else if (a == "--api-peer") o.api_peer = next();
    else if (a == "--api-peer-name") o.api_peer_name = next();
    else if (a == "--bytes") o.bytes = std::stoull(next());
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--rate") o.rate = std::stod(next());
    else if (a == "--seconds") o.seconds = std::stod(next());
    else if (a == "--idle") o.idle = std::stoi(next());
    else if (a == "--daemons") o.daemons = std::stoi(next());
    else if (a == "--toxic-latency") o.toxic_latency_ms = std::stoi(next());
    else if (a == "--precision-latency") o.precision_latency_ms = std::stoi(next());
    else if (a == "--samples") o.samples = std::stoi(next());
    else if (a == "--only") o.only.push_back(next());
    else throw std::invalid_argument("unknown option " + a + " (see the top of bench/proxy/proxy_bench.cpp)");
  }
  return o;
}

bool wanted(const options& o, const char* what) { return o.only.empty() || std::find(o.only.begin(), o.only.end(), what) != o.only.end(); }

// Runs the idle-connection measurement in a child of this program: it holds the upstream sockets,
// so that this process only holds the client side (20,000 descriptors per process at most).
int hold_upstream() {
  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
  std::printf("upstream on 127.0.0.1:%u \n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  // Each socket is held until its peer closes (the proxy passes the client's FIN on).
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    for (;;) {
      auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {  // out of descriptors: try again shortly
        asio::steady_timer pause(ioc, 10ms);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      asio::co_spawn(ioc, [s = std::move(s)]() mutable -> asio::awaitable<void> {
        char byte;
        co_await s.async_read_some(asio::buffer(&byte, 1), asio::as_tuple(asio::use_awaitable));
      }, rethrow);
    }
  }, rethrow);
  ioc.run();
  return 0;
}

void idle(const options& o, const std::filesystem::path& dir, char* self) {
  auto upstream_pid = spawn({self, "--hold-upstream"}, dir / "upstream.log");
  auto upstream = "127.0.0.1:" + wait_for_word(dir / "upstream.log", "upstream on 127.0.0.1:");
  {
    std::vector<std::unique_ptr<proxy_daemon>> daemons;
    for (int i = 0; i < o.daemons; ++i) daemons.push_back(std::make_unique<proxy_daemon>(o.binary, dir, upstream, i));
    long base = 0;
    for (auto& d : daemons) base += rss_kib(d->pid);
    asio::io_context ioc;
    std::vector<tcp::socket> clients;
    clients.reserve(o.idle);
    for (int i = 0; i < o.idle; ++i) {
      clients.emplace_back(ioc);
      clients.back().connect(endpoint_of(daemons[i % daemons.size()]->listen));
    }
    // Waits until every daemon's open connections satisfy `done`, then a second more; their RSS.
    auto settled_rss = [&](auto done) {
      for (auto& d : daemons) {
        for (int i = 0; i < 3000; ++i) {
          auto m = http_get(d->api, "/metrics");
          auto at = m.find("faultline_proxy_connections_active{proxy=\"bench\"} ");
          if (at != std::string::npos && done(std::stoi(m.substr(at + 50)))) break;
          std::this_thread::sleep_for(10ms);
        }
      }
      std::this_thread::sleep_for(1s);
      long rss = 0;
      for (auto& d : daemons) rss += rss_kib(d->pid);
      return rss;
    };
    // Every daemon has connected all of its clients upstream.
    const long total = settled_rss([&](int active) { return active >= o.idle / o.daemons; });
    clients.clear();  // closes them all; then the daemons should give their memory back
    const long after = settled_rss([](int active) { return active == 0; });
    std::printf("| idle connections | %d through %d daemon%s | RSS %.1f MB (%.1f MB before connecting, %.1f MB after closing) | %.1f KB per connection |\n",
                o.idle, o.daemons, o.daemons == 1 ? "" : "s", total / 1024.0, base / 1024.0, after / 1024.0,
                static_cast<double>(total - base) / o.idle);
  }
  stop(upstream_pid);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--hold-upstream") return hold_upstream();
  options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "proxy_bench: " << e.what() << "\n";
    return 2;
  }
  auto dir = std::filesystem::temp_directory_path() / ("faultline-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  try {
    if (wanted(o, "throughput")) {
      upstream_server sink(upstream_server::mode::sink);
      proxy_daemon d(o.binary, dir, sink.address(), 0);
      std::unique_ptr<peer> p;
      if (!o.peer.empty()) p = std::make_unique<peer>(o.peer, dir, sink.port());
      std::unique_ptr<api_daemon> a;
      if (!o.api_peer.empty()) a = std::make_unique<api_daemon>(o.api_peer, dir, sink.address(), "throughput");
      std::vector<std::pair<std::string, std::string>> order{{"direct", sink.address()}, {"faultline", d.listen}};
      if (p) order.emplace_back(o.peer_name, p->listen);
      if (a) order.emplace_back(o.api_peer_name, a->listen);
      std::map<std::string, std::vector<double>> runs;
      std::map<std::string, double> cpu;  // proxy CPU seconds over all runs
      std::map<std::string, pid_t> pids{{"faultline", d.pid}};
      if (p) pids[o.peer_name] = p->pid;
      if (a) pids[o.api_peer_name] = a->pid;
      for (int r = 0; r < o.runs; ++r)  // interleaved, so a busy moment hits every target alike
        for (const auto& [name, target] : order) {
          auto before = pids.count(name) ? cpu_seconds(pids[name]) : 0.0;
          runs[name].push_back(throughput_mb_s(target, o.bytes));
          if (pids.count(name)) cpu[name] += cpu_seconds(pids[name]) - before;
        }
      auto direct = median(runs["direct"]);
      const double gib = static_cast<double>(o.bytes) * o.runs / (1 << 30);
      for (const auto& [name, target] : order) {
        auto m = median(runs[name]);
        std::string cost = pids.count(name) ? " | proxy CPU " + std::to_string(static_cast<int>(1000 * cpu[name] / gib)) + " ms per GiB" : "";
        std::printf("| throughput | %s | %.0f MB/s (median of %d x %.1f GiB) | %.0f%% of direct%s |\n", name.c_str(), m, o.runs,
                    static_cast<double>(o.bytes) / (1 << 30), 100.0 * m / direct, cost.c_str());
      }
    }
    if (wanted(o, "latency")) {
      upstream_server echo(upstream_server::mode::echo);
      proxy_daemon d(o.binary, dir, echo.address(), 1);
      std::unique_ptr<peer> p;
      if (!o.peer.empty()) p = std::make_unique<peer>(o.peer, dir, echo.port());
      std::unique_ptr<api_daemon> a;
      if (!o.api_peer.empty()) a = std::make_unique<api_daemon>(o.api_peer, dir, echo.address(), "latency");
      std::vector<std::pair<std::string, std::string>> order{{"direct", echo.address()}, {"faultline", d.listen}};
      if (p) order.emplace_back(o.peer_name, p->listen);
      if (a) order.emplace_back(o.api_peer_name, a->listen);
      // Rounds alternate between the targets so that the machine's busy moments spread over all.
      std::map<std::string, std::vector<latency_result>> rounds;
      for (int r = 0; r < o.runs; ++r)
        for (const auto& [name, target] : order) rounds[name].push_back(request_response({target}, o.rate, o.seconds)[0]);
      auto med = [&](const std::string& name, double latency_result::*field) {
        std::vector<double> v;
        for (const auto& x : rounds[name]) v.push_back(x.*field);
        return median(v);
      };
      for (const auto& [name, target] : order)
        std::printf("| latency | %s | p50 %.0f us, p99 %.0f us, p99.9 %.0f us (medians of %d x %.0f s at %.0f req/s) | p50 %+.0f us, p99 %+.0f us vs direct |\n",
                    name.c_str(), med(name, &latency_result::p50_us), med(name, &latency_result::p99_us), med(name, &latency_result::p999_us),
                    o.runs, o.seconds, o.rate, med(name, &latency_result::p50_us) - med("direct", &latency_result::p50_us),
                    med(name, &latency_result::p99_us) - med("direct", &latency_result::p99_us));
    }
    if (wanted(o, "toxic")) {
      // Per direction, one proxy per daemon with the latency toxic on the direction its bulk flows.
      upstream_server sink(upstream_server::mode::sink);
      upstream_server source(upstream_server::mode::source);
      struct target {
        std::string name, listen;
        pid_t pid;
      };
      std::vector<std::unique_ptr<proxy_daemon>> ours;
      std::vector<std::unique_ptr<api_daemon>> theirs;
      std::map<std::string, std::vector<target>> targets;  // by direction
      for (std::string way : {"client->server", "server->client"}) {
        const bool up = way == "client->server";
        const auto& upstream = up ? sink.address() : source.address();
        targets[way].push_back({"direct", upstream, 0});
        ours.push_back(std::make_unique<proxy_daemon>(o.binary, dir, upstream, up ? 2 : 3));
        std::vector<std::pair<std::string, std::string>> apis{{"faultline", ours.back()->api}};
        targets[way].push_back({"faultline", ours.back()->listen, ours.back()->pid});
        if (!o.api_peer.empty()) {
          theirs.push_back(std::make_unique<api_daemon>(o.api_peer, dir, upstream, up ? "toxic-up" : "toxic-down"));
          apis.emplace_back(o.api_peer_name, theirs.back()->api);
          targets[way].push_back({o.api_peer_name, theirs.back()->listen, theirs.back()->pid});
        }
        for (const auto& [name, api] : apis)
          http_post(api, "/proxies/bench/toxics",
                    nlohmann::json{{"type", "latency"}, {"stream", up ? "upstream" : "downstream"}, {"attributes", {{"latency", static_cast<std::int64_t>(o.toxic_latency_ms)}}}}.dump());
      }
      std::map<std::string, std::vector<double>> runs;  // by "way name"
      std::map<std::string, double> cpu;
      for (int r = 0; r < o.runs; ++r)  // interleaved: direct, faultline, peer, for each direction
        for (const auto& [way, list] : targets)
          for (const auto& t : list) {
            auto before = t.pid ? cpu_seconds(t.pid) : 0.0;
            runs[way + t.name].push_back(way == "client->server" ? throughput_mb_s(t.listen, o.bytes) : download_mb_s(t.listen, o.bytes));
            if (t.pid) cpu[way + t.name] += cpu_seconds(t.pid) - before;
          }
      const double gib = static_cast<double>(o.bytes) * o.runs / (1 << 30);
      for (const auto& [way, list] : targets) {
        auto direct = median(runs[way + "direct"]);
        for (const auto& t : list) {
          auto m = median(runs[way + t.name]);
          std::string cost = t.pid ? " | proxy CPU " + std::to_string(static_cast<int>(1000 * cpu[way + t.name] / gib)) + " ms per GiB" : "";
          std::printf("| latency toxic %.0f ms, %s | %s | %.0f MB/s (median of %d x %.1f GiB) | %.0f%% of direct%s |\n", o.toxic_latency_ms,
                      way.c_str(), t.name.c_str(), m, o.runs, static_cast<double>(o.bytes) / (1 << 30), 100.0 * m / direct, cost.c_str());
        }
      }
    }
    if (wanted(o, "precision")) {
      upstream_server echo(upstream_server::mode::echo);
      proxy_daemon d(o.binary, dir, echo.address(), 4);
      std::unique_ptr<api_daemon> a;
      if (!o.api_peer.empty()) a = std::make_unique<api_daemon>(o.api_peer, dir, echo.address(), "precision");
      std::vector<std::pair<std::string, std::string>> apis{{"faultline", d.api}};
      std::vector<std::string> listens{d.listen};
      if (a) {
        apis.emplace_back(o.api_peer_name, a->api);
        listens.push_back(a->listen);
      }
      std::map<std::string, std::vector<double>> p50, p99, base, base_cold, own50, own99;
      for (int r = 0; r < o.runs; ++r)
        for (std::size_t i = 0; i < apis.size(); ++i) {
          const auto& [name, api] = apis[i];
          asio::io_context ioc;
          tcp::socket s(ioc);
          s.connect(endpoint_of(listens[i]));
          s.set_option(tcp::no_delay(true));
          round_trips(s, 20);  // warm up
          const auto without = median(round_trips(s, o.samples * 2));
          // The same round trip after an idle pause as long as the toxic's latency: what waking
          // the client, the proxy and the echo server costs without any toxic.
          const auto idle_for = std::chrono::microseconds(static_cast<std::int64_t>(o.precision_latency_ms * 1000));
          const auto cold = median(round_trips(s, o.samples, idle_for));
          http_post(api, "/proxies/bench/toxics",
                    nlohmann::json{{"name", "precision"}, {"type", "latency"}, {"stream", "downstream"},
                                   {"attributes", {{"latency", static_cast<std::int64_t>(o.precision_latency_ms)}}}}.dump());
          std::vector<double> errors, own;
          for (double rtt : round_trips(s, o.samples)) {
            errors.push_back(rtt - o.precision_latency_ms * 1000 - without);
            own.push_back(rtt - o.precision_latency_ms * 1000 - cold);
          }
          http_call(http::verb::delete_, api, "/proxies/bench/toxics/precision");
          base[name].push_back(without);
          base_cold[name].push_back(cold);
          p50[name].push_back(quantile(errors, 0.50));
          p99[name].push_back(quantile(errors, 0.99));
          own50[name].push_back(quantile(own, 0.50));
          own99[name].push_back(quantile(own, 0.99));
        }
      for (const auto& [name, api] : apis) {
        std::printf("| latency toxic %.0f ms, release error | %s | median %.0f us, p99 %.0f us (medians of %d x %d round trips; %.0f us round trip without it) |\n",
                    o.precision_latency_ms, name.c_str(), median(p50[name]), median(p99[name]), o.runs, o.samples, median(base[name]));
        std::printf("| latency toxic %.0f ms, release error less the wake-ups | %s | median %.0f us, p99 %.0f us (against %.0f us: the round trip after %.0f ms idle without it) |\n",
                    o.precision_latency_ms, name.c_str(), median(own50[name]), median(own99[name]), median(base_cold[name]),
                    o.precision_latency_ms);
      }
    }
    if (o.idle > 0 && wanted(o, "idle")) idle(o, dir, argv[0]);
  } catch (const std::exception& e) {
    std::cerr << "proxy_bench: " << e.what() << "\n";
    std::filesystem::remove_all(dir);
    return 1;
  }
  std::filesystem::remove_all(dir);
  return 0;
}
