// netem_tool: drives the `network` fault the way the runner does (experiment file -> loader ->
// fault type -> inject/revert, the undo record in the run state file first), plus the UDP echo and RTT measurements
// and the console check of the real-kernel lane (scripts/qemu-netem). Runs on the host and inside
// the qemu guest.
//
//   netem_tool [--netns NAME] COMMAND ...   (COMMAND runs inside /run/netns/NAME)
//   netem_tool probe
//   netem_tool inject EXPERIMENT STEP --state FILE [--hold]
//   netem_tool udp-echo PORT...
//   netem_tool udp-rtt HOST PORT COUNT INTERVAL_MS
//   netem_tool check CONSOLE_LOG

#include "engine/loader.hpp"
#include "engine/state_file.hpp"
#include "faults/fault.hpp"
#include "faults/netem/netem_engine.hpp"
#include "probes/probe.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

using namespace faultline;
using clock_type = std::chrono::steady_clock;

namespace {

struct registries {
  faults::fault_registry faults;
  probes::probe_registry probes;
  registries() {
    faults::register_builtin_faults(faults);
    probes::register_builtin_probes(probes);
  }
};

void run(boost::asio::awaitable<void> work) {
  boost::asio::io_context io;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

// The run state file, exactly as the runner keeps it, so the real `faultline recover` undoes
// what this tool leaves behind when it is killed.
void record_undo(engine::state_file& state, const engine::step& step, const std::string& experiment, const nlohmann::json& record) {
  engine::undo_entry e;
  e.run_id = "netem-tool-" + std::to_string(::getpid());
  e.pid = ::getpid();
  e.pid_start_time = engine::process_start_time(e.pid);
  e.experiment = experiment;
  e.step = step.name;
  e.type = step.type;
  e.record = record;
  e.written_at = "1970-01-01T00:00:00Z";
  state.remove(e.run_id, e.step);
  state.add(e);
}

int inject(const std::string& experiment_file, const std::string& step_name, const std::string& state_file, bool hold) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: sigwait below takes them
  registries r;
  auto x = engine::load_experiment(experiment_file, {r.faults, r.probes}, {});
  const engine::step* step = nullptr;
  for (const auto& s : x.timeline.steps)
    if (s.name == step_name) step = &s;
  if (!step) throw std::runtime_error("no step named " + step_name);
  const auto* type = step->fault_type;
  faults::fault_context ctx;
  ctx.target = step->target;
  ctx.step_name = step->name;
  auto fault = type->create(step->parameters, ctx);
  engine::state_file state(state_file);
  if (auto undo = fault->undo_record(); !undo.is_null()) record_undo(state, *step, x.name, undo);  // before any change
  run(fault->inject());
  record_undo(state, *step, x.name, fault->undo_record());
  std::cout << "APPLIED engine=" << fault->engine() << " " << fault->collect_evidence().details.dump() << std::endl;
  if (!hold) return 0;

  int sig = 0;
  sigwait(&set, &sig);
  try {
    run(fault->revert());
  } catch (const std::exception& e) {
    std::cout << "REVERT-FAILED " << e.what() << std::endl;
    return 1;
  }
  state.remove("netem-tool-" + std::to_string(::getpid()), step->name);
  auto ev = fault->collect_evidence();
  std::cout << "REVERTED observed=" << ev.observed << " " << ev.summary << " " << ev.details.dump() << std::endl;
  return 0;
}

int udp_echo(const std::vector<int>& ports) {
  std::vector<pollfd> fds;
  for (int port : ports) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error(fmt::format("bind {}: {}", port, strerror(errno)));
    fds.push_back({fd, POLLIN, 0});
  }
  std::cout << "ECHOING" << std::endl;
  char buf[2048];
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    for (auto& p : fds) {
      if (!(p.revents & POLLIN)) continue;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      auto n = recvfrom(p.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) sendto(p.fd, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
}

// Sends COUNT numbered datagrams INTERVAL_MS apart and reports replies and round-trip times.
int udp_rtt(const std::string& host, int port, int count, double interval_ms) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &to.sin_addr);
  // Not connected: the echo server answers from its primary address whichever address was asked.
  std::vector<clock_type::time_point> sent(static_cast<std::size_t>(count));
  std::vector<double> rtt;
  std::vector<bool> seen(static_cast<std::size_t>(count), false);
  std::mutex m;
  std::atomic<bool> done{false};
  std::thread receiver([&] {
    char buf[64];
    while (!done) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      auto n = recvfrom(fd, buf, sizeof buf, 0, nullptr, nullptr);
      auto now = clock_type::now();
      if (n < 4) continue;
      std::uint32_t seq;
      std::memcpy(&seq, buf, 4);
      std::lock_guard lock(m);
      if (seq < seen.size() && !seen[seq]) {
        seen[seq] = true;
        rtt.push_back(std::chrono::duration<double, std::milli>(now - sent[seq]).count());
      }
    }
  });
  auto start = clock_type::now();
  for (int i = 0; i < count; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long>(i * interval_ms * 1000)));
    std::uint32_t seq = static_cast<std::uint32_t>(i);
    char buf[64] = {};
    std::memcpy(buf, &seq, 4);
    {
      std::lock_guard lock(m);
      sent[seq] = clock_type::now();
    }
    sendto(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  // Late replies: wait until all are in, or 500 ms after the last send (delays here are <= 50 ms).
  for (auto until = clock_type::now() + std::chrono::milliseconds(500); clock_type::now() < until;) {
    {
      std::lock_guard lock(m);
      if (rtt.size() == seen.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  done = true;
  receiver.join();
  std::sort(rtt.begin(), rtt.end());
  auto pct = [&](double q) { return rtt.empty() ? -1.0 : rtt[static_cast<std::size_t>(q * static_cast<double>(rtt.size() - 1))]; };
  std::cout << fmt::format("sent={} received={} median_ms={:.3f} p10_ms={:.3f} p90_ms={:.3f}", count, rtt.size(), pct(0.5), pct(0.1),
                           pct(0.9))
            << std::endl;
  return 0;
}

// ---- the host-side check of the guest's console ----

std::map<std::string, std::map<std::string, std::string>> results_of(const std::string& log) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto at = line.find("RESULT ");
    if (at == std::string::npos) continue;
    std::istringstream words(line.substr(at + 7));
    std::string name, kv;
    words >> name;
    auto& fields = out[name];
    while (words >> kv) {
      auto eq = kv.find('=');
      if (eq != std::string::npos) fields[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  return out;
}

struct checker {
  std::map<std::string, std::map<std::string, std::string>> results;
  int failures = 0, passes = 0;

  std::string field(const std::string& name, const std::string& key) {
    auto r = results.find(name);
    if (r == results.end()) return {};
    auto f = r->second.find(key);
    return f == r->second.end() ? std::string() : f->second;
  }
  double number(const std::string& name, const std::string& key) {
    auto v = field(name, key);
    try {
      return std::stod(v);
    } catch (...) {
      return NAN;
    }
  }
  void expect(bool ok, const std::string& what) {
    std::cout << (ok ? "PASS " : "FAIL ") << what << "\n";
    ok ? ++passes : ++failures;
  }
  // A round-trip measurement counts only when (nearly) every datagram came back.
  double rtt_change(const std::string& name, const std::string& base, const std::string& fault) {
    for (const auto& key : {base, fault}) {
      auto received = number(name, key + "_received");
      expect(received >= 45, fmt::format("{}: {} measurement got {} of 50 replies", name, key, received));
      if (!(received >= 45)) return NAN;
    }
    return number(name, fault + "_ms") - number(name, base + "_ms");
  }
  void expect_between(const std::string& what, double value, double low, double high) {
    expect(value >= low && value <= high, fmt::format("{}: {:.3f} in [{}, {}]", what, value, low, high));
  }
  void expect_equal(const std::string& name, const std::string& a, const std::string& b) {
    auto x = field(name, a), y = field(name, b);
    expect(!x.empty() && x == y, fmt::format("{}: {} ({}) == {} ({})", name, a, x, b, y));
  }
};

int check(const std::string& log_file) {
  std::ifstream in(log_file);
  std::stringstream text;
  text << in.rdbuf();
  checker c{results_of(text.str())};

  c.expect(c.field("probe", "netem") == "available", "capability probe finds netem in the guest kernel");
  c.expect_between("50ms delay: RTT increase (ms)", c.rtt_change("delay", "base", "fault"), 45, 55);
  c.expect(c.field("delay", "observed") == "1", "50ms delay: evidence says observed");
  c.expect_equal("delay", "tree_before", "tree_after");
  const double sent = c.number("loss", "sent"), received = c.number("loss", "received");
  c.expect(sent >= 1000, fmt::format("10% loss: at least 1000 packets sent ({})", sent));
  c.expect_between("10% loss: measured loss (%)", 100.0 * (sent - received) / sent, 5, 15);
  c.expect(c.number("loss", "netem_drops") > 0, "10% loss: netem's drop counter moved");
  c.expect_equal("loss", "tree_before", "tree_after");
  c.expect_between("port scope: chosen port RTT increase (ms)", c.rtt_change("port_scope", "in_base", "in_fault"), 45, 55);
  c.expect_between("port scope: other port RTT change (ms)", c.rtt_change("port_scope", "out_base", "out_fault"), -5, 5);
  c.expect_equal("port_scope", "tree_before", "tree_after");
  c.expect_between("host scope: chosen host RTT increase (ms)", c.rtt_change("host_scope", "in_base", "in_fault"), 45, 55);
  c.expect_between("host scope: other host RTT change (ms)", c.rtt_change("host_scope", "out_base", "out_fault"), -5, 5);
  c.expect_equal("host_scope", "tree_before", "tree_after");
  c.expect(c.field("all_params", "applied") == "1", "every netem parameter accepted by the kernel");
  for (const auto& token : {"gemodel", "rate", "reorder", "duplicate", "corrupt", "gap", "limit"})
    c.expect(c.field("all_params", token) == "1", fmt::format("all parameters: tc shows the requested '{}'", token));
  c.expect(c.number("jitter_normal", "received") >= 190, "normal jitter: replies to at least 190 of 200 datagrams");
  c.expect_between("normal jitter (100ms +/- 20ms): median RTT (ms)", c.number("jitter_normal", "median_ms"), 95, 106);
  c.expect_between("normal jitter: p90 - p10 (ms; normal 51, uniform 32)",
                   c.number("jitter_normal", "p90_ms") - c.number("jitter_normal", "p10_ms"), 40, 63);
  c.expect_equal("all_params", "tree_before", "tree_after");
  c.expect(c.field("htb_tree", "during_differs") == "1", "htb tree: the fault replaced it while applied");
  c.expect_equal("htb_tree", "tree_before", "tree_after");
  c.expect(c.field("recover", "during_differs") == "1", "killed run: the fault was left behind by SIGKILL");  // then `faultline recover`
  c.expect_equal("recover", "tree_before", "tree_after");
  c.expect(c.field("changed_root", "revert_refused") == "1", "changed root: revert refuses with a clear message");
  c.expect(c.field("changed_root", "foreign_kept") == "1", "changed root: the other qdisc is left alone");
  c.expect(c.field("done", "ok") == "1", "the guest ran to the end");
  std::cout << fmt::format("qemu-netem: {} passed, {} failed\n", c.passes, c.failures);
  return c.failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "--netns") {  // cheaper than `ip netns exec` under emulation
    int fd = open(("/run/netns/" + args[1]).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      std::cout << "ERROR cannot enter netns " << args[1] << ": " << strerror(errno) << std::endl;
      return 1;
    }
    close(fd);
    args.erase(args.begin(), args.begin() + 2);
  }
  try {
    if (args.size() == 1 && args[0] == "probe") {
      auto why = faults::network::netem_unavailable_reason();
      std::cout << (why.empty() ? "netem=available" : "netem=missing " + why) << std::endl;
      return 0;
    }
    if (args.size() >= 5 && args[0] == "inject" && args[3] == "--state")
      return inject(args[1], args[2], args[4], args.size() > 5 && args[5] == "--hold");
    if (args.size() >= 2 && args[0] == "udp-echo") {
      std::vector<int> ports;
      for (std::size_t i = 1; i < args.size(); ++i) ports.push_back(std::stoi(args[i]));
      return udp_echo(ports);
    }
    if (args.size() == 5 && args[0] == "udp-rtt") return udp_rtt(args[1], std::stoi(args[2]), std::stoi(args[3]), std::stod(args[4]));
    if (args.size() == 2 && args[0] == "check") return check(args[1]);
  } catch (const faults::capability_error& e) {
    std::cout << "CAPABILITY " << e.what() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cout << "ERROR " << e.what() << std::endl;
    return 1;
  }
  std::cerr << "usage: netem_tool [--netns NAME] probe | inject EXPERIMENT STEP --state FILE [--hold] | udp-echo PORT... | "
               "udp-rtt HOST PORT COUNT INTERVAL_MS | check CONSOLE_LOG\n";
  return 2;
}
