// bench/netem: the userspace engine between two network namespaces joined by a veth pair.
//  1. TCP throughput (iperf3, client namespace -> server namespace) without the engine, through it
//     at 0 ms and at 10 ms delay, and through it in whole-packet mode (what corrupt/duplicate use).
//  2. Delay error: UDP datagrams carrying their send time, at 1k, 10k and 50k packets/s, through a
//     10 ms delay; error = measured one-way latency - 10 ms. The same stream without the engine
//     gives the measurement floor.
// Prints Markdown tables for docs/benchmarks.md. Needs root, iproute2 and iperf3.
// Usage: netem_userspace_bench [--quick] [--delay-only] [--runs N]
#include "core/histogram.hpp"
#include "faults/userspace/netns.hpp"
#include "faults/userspace/userspace_engine.hpp"
#include "tests/faults/userspace/netns_lab.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

using namespace faultline;
using namespace std::chrono_literals;
namespace us = faultline::faults::userspace;

namespace {

using clock_type = std::chrono::steady_clock;

// The measuring threads run at real-time priority (just above the engine's packet loop) so the
// numbers show the engine's timing, not the bench being starved by other work on the host.
void measure_at_realtime_priority() {
  sched_param p{};
  p.sched_priority = 11;
  // SCHED_RESET_ON_FORK: programs the bench starts (iperf3) run at normal priority.
  if (int rc = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO | SCHED_RESET_ON_FORK, &p); rc != 0)
    std::cerr << "bench thread stays at normal priority: " << std::strerror(rc) << "\n";
}

std::int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count(); }

std::shared_ptr<faults::network::network_spec> spec_for(const test::netns_lab& lab) {
  auto s = std::make_shared<faults::network::network_spec>();
  s->device = lab.server_dev();
  s->netns = lab.server_ns();
  return s;
}

// A background program in a namespace, killed by its PID when done.
class background {
public:
  background(const std::string& netns, std::vector<std::string> argv) {
    us::netns_handle ns(netns);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (!ns.enter().empty()) ::_exit(126);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

private:
  pid_t pid_ = -1;
};

// iperf3 for `seconds` from the client to the server namespace; Gbit/s received.
double iperf_gbits(const test::netns_lab& lab, int seconds) {
  const auto iperf = us::find_program("iperf3");
  background server(lab.server_ns(), {iperf, "-s", "-1", "-B", test::netns_lab::server_ip, "-p", "5201"});
  std::this_thread::sleep_for(300ms);
  auto r = us::run_program(lab.client_ns(), {iperf, "-c", test::netns_lab::server_ip, "-p", "5201", "-t", std::to_string(seconds), "-J"},
                           {}, std::chrono::seconds(seconds + 30));
  try {
    auto j = nlohmann::json::parse(r.out);
    return j.at("end").at("sum_received").at("bits_per_second").get<double>() / 1e9;
  } catch (const std::exception& e) {
    throw std::runtime_error("iperf3 failed: " + r.error_text());
  }
}

struct delay_run {
  histogram latency;  // one-way, send -> recv
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
};

// UDP datagrams carrying their send time, at `rate` per second for `duration`.
delay_run measure_one_way(const test::netns_lab& lab, double rate, std::chrono::milliseconds duration) {
  delay_run run;
  us::netns_handle server_ns(lab.server_ns()), client_ns(lab.client_ns());
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9000);
  ::inet_pton(AF_INET, test::netns_lab::server_ip, &to.sin_addr);
  const int rx = us::in_netns(server_ns, [&] {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int size = 32 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    timeval timeout{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) throw std::runtime_error("bind 9000");
    return fd;
  });
  const int tx = us::in_netns(client_ns, [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  std::atomic<bool> sending{true};
  std::thread receiver([&] {
    measure_at_realtime_priority();
    char buf[256];
    for (;;) {
      auto n = ::recv(rx, buf, sizeof buf, 0);
      const auto at = now_ns();
      if (n < 8) {
        if (!sending) break;
        continue;
      }
      std::int64_t sent_at;
      std::memcpy(&sent_at, buf, 8);
      run.latency.record(std::chrono::nanoseconds(at - sent_at));
      ++run.received;
    }
  });
  char payload[64] = {};
  const auto start = clock_type::now();
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const auto total = static_cast<std::uint64_t>(rate * std::chrono::duration<double>(duration).count());
  for (std::uint64_t i = 0; i < total; ++i) {
    const auto due = start + std::chrono::duration_cast<clock_type::duration>(interval * static_cast<double>(i));
    if (clock_type::now() < due) std::this_thread::sleep_until(due);
    const auto t = now_ns();
    std::memcpy(payload, &t, 8);
    ::sendto(tx, payload, sizeof payload, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    ++run.sent;
  }
  std::this_thread::sleep_for(300ms);
  sending = false;
  receiver.join();
  ::close(rx);
  ::close(tx);
  return run;
}

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// TCP throughput through the engine in its modes, against the direct path.
void throughput_table(const test::netns_lab& lab, bool quick) {
  const int seconds = quick ? 3 : 10;
  std::cout << "| path (client -> server namespace, veth) | delay | TCP throughput (iperf3, " << seconds << " s) | held peak |\n";
  std::cout << "|---|---|---|---|\n";
  std::cout << fmt::format("| direct (no engine) | 0 ms | {:.2f} Gbit/s | - |\n", iperf_gbits(lab, seconds));
  struct variant {
    const char* name;
    std::chrono::milliseconds delay;
    bool whole_packet;
  };
  for (const auto& v : {variant{"userspace engine", 0ms, false}, variant{"userspace engine", 10ms, false},
                        variant{"userspace engine, whole-packet copies", 0ms, true},
                        variant{"userspace engine, whole-packet copies", 10ms, true}}) {
    auto spec = spec_for(lab);
    spec->delay = v.delay;
    if (v.delay.count() == 0) spec->loss = faults::network::chance{0, 0};  // through the queue, nothing decided
    if (v.whole_packet) spec->corrupt = faults::network::chance{0, 0};     // the copy mode corrupt/duplicate need
    us::userspace_engine engine(spec, "bench");
    engine.apply_now();
    const double gbits = iperf_gbits(lab, seconds);
    const auto stats = engine.packet_statistics();
    engine.remove_now();
    std::cout << fmt::format("| {} | {} ms | {:.2f} Gbit/s | {} (over limit {}, overruns {}) |\n", v.name, v.delay.count(), gbits,
                             stats.counters.held_peak, stats.counters.packets_over_limit_total,
                             stats.counters.receive_overruns_total);
  }
}

// One rate: the direct path, then a 10 ms delay through the engine at real-time and at normal priority.
void delay_rows(const test::netns_lab& lab, double rate, std::chrono::milliseconds duration) {
  auto base = measure_one_way(lab, rate, duration);
  auto through_engine = [&](int priority, us::packet_stats& stats) {
    auto spec = spec_for(lab);
    spec->delay = 10ms;
    us::userspace_engine engine(spec, "bench", us::userspace_options{priority});
    engine.apply_now();
    auto run = measure_one_way(lab, rate, duration);
    stats = engine.packet_statistics();
    engine.remove_now();
    return run;
  };
  us::packet_stats stats, normal_stats;
  auto delayed = through_engine(10, stats);
  auto delayed_normal = through_engine(0, normal_stats);
  auto row = [&](const char* path, const delay_run& r, std::chrono::nanoseconds subtract, const std::string& lateness) {
    const auto& h = r.latency;
    auto e = [&](double p) { return fmt::format("{:.3f} ms", ms(h.percentile(p) - subtract)); };
    std::cout << fmt::format("| {:.0f}/s | {}/{} | {} | {} | {} | {} | {} | {:.3f} ms | {} |\n", rate, r.received, r.sent, path, e(50),
                             e(90), e(99), e(99.9), ms(h.max() - subtract), lateness);
  };
  row("direct: one-way latency", base, 0ns, "-");
  row("10 ms delay: latency - 10 ms", delayed, 10ms, fmt::format("{:.3f} ms", ms(stats.lateness.percentile(99))));
  row("same, packet loop at normal priority", delayed_normal, 10ms,
      fmt::format("{:.3f} ms", ms(normal_stats.lateness.percentile(99))));
}

// Delay error at three packet rates, `runs` times each.
void delay_table(const test::netns_lab& lab, bool quick, int runs) {
  std::cout << "\n| rate | packets | path | p50 | p90 | p99 | p99.9 | max | engine lateness p99 |\n";
  std::cout << "|---|---|---|---|---|---|---|---|---|\n";
  const auto duration = quick ? 2000ms : 6000ms;
  for (int round = 0; round < runs; ++round) {
    for (double rate : {1000.0, 10000.0, 50000.0}) delay_rows(lab, rate, duration);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, delay_only = false;
  int runs = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") quick = true;
    else if (arg == "--delay-only") delay_only = true;
    else if (arg == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else {
      std::cerr << "usage: netem_userspace_bench [--quick] [--delay-only] [--runs N]\n";
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  if (auto why = test::netns_unavailable_reason(); !why.empty()) {
    std::cerr << "netem_userspace_bench: " << why << "\n";
    return 2;
  }
  if (auto why = us::userspace_unavailable_reason(); !why.empty()) {
    std::cerr << "netem_userspace_bench: " << why << "\n";
    return 2;
  }
  if (us::find_program("iperf3").empty()) {
    std::cerr << "netem_userspace_bench: needs iperf3 (apt install iperf3)\n";
    return 2;
  }
  try {
    test::netns_lab lab("bench");
    std::cout << fmt::format("load average at start: {}; {} CPUs\n\n", load_average(), std::thread::hardware_concurrency());
    if (!delay_only) throughput_table(lab, quick);
    measure_at_realtime_priority();
    delay_table(lab, quick, runs);
    std::cout << fmt::format("\nload average at end: {}\n", load_average());
  } catch (const std::exception& e) {
    std::cerr << "netem_userspace_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
