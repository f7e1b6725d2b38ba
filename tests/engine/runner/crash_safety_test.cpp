// Crash safety, measured: `faultline run` is SIGKILLed at random moments while a userspace
// network fault, proxies with toxics and a connection storm are active, then `faultline recover`
// runs; after every kill the firewall rules, qdiscs, namespaces, links, addresses, routes and the
// run's child processes must be exactly as before. The kills are aimed between the run's first
// "injected" and last "reverted" log lines, where faults are in place. Everything happens in two
// network namespaces the test creates (10.200.1.0/24): the run itself lives in the client one.
// FAULTLINE_CRASH_KILLS sets the number of kills (10 by default; bench/crash/run.sh runs 100).

#include "engine/state_file.hpp"
#include "faults/storm/worker_process.hpp"
#include "faults/userspace/netns.hpp"
#include "faults/userspace/userspace_engine.hpp"
#include "tests/faults/userspace/netns_lab.hpp"
#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/skip.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace faultline;
using namespace std::chrono_literals;
using faults::userspace::find_program;
using faults::userspace::run_program;
using test::netns_lab;

namespace {

using steady = std::chrono::steady_clock;

double ms_between(steady::time_point a, steady::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// Counters change with traffic; the rules themselves must not.
std::string without_counters(std::string text) {
  static const std::regex iptables_counters(R"(\[\d+:\d+\])");
  static const std::regex nft_counters(R"(counter packets \d+ bytes \d+)");
  text = std::regex_replace(text, iptables_counters, "[-]");
  return std::regex_replace(text, nft_counters, "counter");
}

std::string run_in(const std::string& netns, const std::vector<std::string>& argv) {
  auto r = run_program(netns, argv);
  if (!r.ok()) throw std::runtime_error(faults::userspace::command_line(argv) + ": " + r.error_text());
  return r.out;
}

// Everything a run may change outside itself, as text: the named namespaces, and in the host's
// and the lab's namespaces the firewall (iptables, ip6tables, nft), every qdisc, and in the lab's
// the links, addresses and routes.
std::string system_state(const netns_lab& lab) {
  const auto ip = find_program("ip");
  const auto tc = find_program("tc");
  std::string names;
  std::istringstream list(run_in("", {ip, "netns", "list"}));
  std::vector<std::string> lines;
  for (std::string line; std::getline(list, line);) lines.push_back(line.substr(0, line.find(" (id:")));
  std::sort(lines.begin(), lines.end());
  std::string out = "== namespaces\n";
  for (const auto& l : lines) out += l + "\n";
  for (const auto& ns : {std::string(), lab.client_ns(), lab.server_ns()}) {
    out += "== netns '" + ns + "'\n" + without_counters(test::ruleset(ns));
    out += "== qdiscs\n" + run_in(ns, {tc, "qdisc", "show"});
    if (ns.empty()) continue;
    out += "== links\n" + run_in(ns, {ip, "-o", "link", "show"});
    out += "== addresses\n" + run_in(ns, {ip, "-o", "address", "show"});
    out += "== routes\n" + run_in(ns, {ip, "route", "show", "table", "all"});
  }
  return out;
}

// The state once a new lab has settled (its veth carrier up, IPv6 link-local addresses past
// duplicate address detection): the same twice in a row, 200 ms apart.
std::string settled_state(const netns_lab& lab) {
  std::string last, now = system_state(lab);
  test::eventually([&] {
    last = now;
    std::this_thread::sleep_for(200ms);
    now = system_state(lab);
    return now == last && now.find("tentative") == std::string::npos && now.find("NO-CARRIER") == std::string::npos;
  }, 20s);
  return now;
}

// The lines of `after` that are not in `before` (+) and those gone from it (-): what a failed
// comparison shows instead of two whole snapshots.
std::string differences(const std::string& before, const std::string& after) {
  auto lines = [](const std::string& text) {
    std::multiset<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.insert(line);
    return out;
  };
  const auto b = lines(before), a = lines(after);
  std::vector<std::string> gone, added;
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(gone));
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(added));
  std::string out;
  for (const auto& l : gone) out += "- " + l + "\n";
  for (const auto& l : added) out += "+ " + l + "\n";
  return out;
}

// The processes below `root` (children, grandchildren, ...), found through /proc.
std::vector<storm::process_id> descendants(pid_t root) {
  std::multimap<long, long> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    children.emplace(ppid, std::stol(name));
  }
  std::vector<storm::process_id> out;
  std::vector<long> todo{root};
  while (!todo.empty()) {
    const auto parent = todo.back();
    todo.pop_back();
    for (auto [it, end] = children.equal_range(parent); it != end; ++it) {
      if (auto start = storm::process_start_time(it->second)) out.push_back({it->second, *start});
      todo.push_back(it->second);
    }
  }
  return out;
}

// A `faultline run` inside the client namespace (`ip netns exec` execs it: same PID).
class run_process {
public:
  run_process(const netns_lab& lab, const std::filesystem::path& experiment, const std::filesystem::path& dir,
              const std::filesystem::path& log_file) {
    const std::vector<std::string> argv{find_program("ip"), "netns", "exec", lab.client_ns(), test::faultline_binary(), "run",
                                        experiment.string(), "--report-dir", (dir / "reports").string(), "--state-file",
                                        (dir / "state.json").string()};
    const auto log = log_file.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  // Only reached with the run still going when the test failed: stop it and what it started
  // (its storm workers would outlive it), so that nothing of the test is left behind.
  ~run_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGSTOP);
      const auto children = descendants(pid_);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      for (const auto& child : children)
        if (storm::process_alive(child)) ::kill(static_cast<pid_t>(child.pid), SIGKILL);
    }
  }
  pid_t pid() const { return pid_; }
  // Exit code, or 128 + signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

private:
  pid_t pid_ = -1;
};

// The proxy forwards to the echo server in the server namespace, through the veth that carries
// the network fault; the probe and the storm go through the proxy. The storm's redis handshake
// puts bytes through the toxics and the network fault (the echo server answers PING with PING,
// a failed handshake, which is fine here: the bytes are what counts).
std::filesystem::path write_experiment(const std::filesystem::path& dir, const netns_lab& lab) {
  const auto file = dir / "crash.yaml";
  std::ofstream(file) << fmt::format(
      "version: 1\n"
      "name: crash-safety\n"
      "proxies:\n"
      "  echo: {{ listen: \"127.0.0.1:17000\", upstream: \"{server}:7000\" }}\n"
      "probes:\n"
      "  echo: {{ tcp: {{ address: \"127.0.0.1:17000\", every: 50ms, timeout: 1s }} }}\n"
      "timeline:\n"
      "  baseline: 100ms\n"
      "  steps:\n"
      "    - {{ name: slow-link, at: 0s, for: 1500ms, fault: network, engine: userspace, target: {dev}, netns: {ns},\n"
      "         delay: 5ms, rate: 10Mbit/s, ports: [7000], protocol: tcp }}\n"
      "    - {{ name: slow-proxy, at: 0s, for: 1500ms, fault: latency, target: echo, latency: 20ms, jitter: 5ms }}\n"
      "    - {{ name: thin-proxy, at: 300ms, for: 1s, fault: bandwidth, target: echo, stream: upstream, rate: 100KB/s }}\n"
      "    - {{ name: storm, at: 0s, for: 1500ms, fault: connection_storm, target: echo, connections: 200, churn: true,\n"
      "         rate: 2000/s, hold: 50ms, handshake: redis }}\n"
      "  recovery: {{ timeout: 2s, stable_for: 100ms }}\n",
      fmt::arg("server", netns_lab::server_ip), fmt::arg("dev", lab.server_dev()), fmt::arg("ns", lab.server_ns()));
  return file;
}

std::size_t recorded_faults(const std::filesystem::path& state) {
  try {
    return engine::state_file(state).entries().size();
  } catch (const std::exception&) {
    return 0;  // not written yet
  }
}

int kills_wanted() {
  const char* text = std::getenv("FAULTLINE_CRASH_KILLS");
  return text ? std::max(1, std::atoi(text)) : 10;
}

constexpr int steps_in_experiment = 4;

// How far a run got, from its log: the runner logs "injected TYPE [STEP]" and
// "reverted TYPE [STEP] (why)" once per step.
struct progress {
  int injected = 0;
  int reverted = 0;
};

progress progress_of(const std::filesystem::path& log) {
  static const std::regex injected(R"(\binjected \S+ \[)");
  static const std::regex reverted(R"(\breverted \S+ \[)");
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  auto count = [&](const std::regex& re) {
    return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
  };
  return {count(injected), count(reverted)};
}

// Where a kill landed: before the first fault was injected, while faults were in place (from
// the first "injected" to the last "reverted"), or after every fault was reverted.
enum class phase { before, active, after };

phase phase_of(const progress& p) {
  if (p.injected == 0) return phase::before;
  return p.reverted >= steps_in_experiment ? phase::after : phase::active;
}

// Removes a directory when the test ends, also on a failed REQUIRE.
struct scratch_dir {
  std::filesystem::path path;
  explicit scratch_dir(std::filesystem::path p) : path(std::move(p)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

TEST_CASE("crash safety: faultline recover after a SIGKILL at a random moment leaves everything as before", "[engine][netns]") {
  if (auto why = test::netns_unavailable_reason(); !why.empty()) test::skip(why);
  if (auto why = faults::userspace::userspace_unavailable_reason(); !why.empty()) test::skip(why);
  netns_lab lab("crash");
  test::echo_server server(lab.server_ns(), {7000});
  const scratch_dir scratch(std::filesystem::temp_directory_path() / ("faultline-crash-" + std::to_string(::getpid())));
  const auto& dir = scratch.path;
  const auto experiment = write_experiment(dir, lab);
  const auto state = dir / "state.json";
  const auto before = settled_state(lab);

  // A whole run first: it must end cleanly and leave everything as before; the time from its
  // first "injected" to its last "reverted" line is the window the kills aim at.
  const auto whole_log = dir / "whole-run.log";
  double window_ms = 0;
  {
    run_process run(lab, experiment, dir, whole_log);
    const auto started = steady::now();
    REQUIRE(test::eventually([&] { return progress_of(whole_log).injected > 0; }, 60s));
    const auto first_injected = steady::now();
    REQUIRE(test::eventually([&] { return progress_of(whole_log).reverted >= steps_in_experiment; }, 60s));
    window_ms = ms_between(first_injected, steady::now());
    const int code = run.wait();
    INFO(test::run_command("cat " + whole_log.string()).output);
    // A verdict either way (the toxics' effects are judged too, and a probe without data gives
    // them little to show): the run must end on its own, not abort or crash.
    REQUIRE((code == 0 || code == 1));
    REQUIRE(std::filesystem::exists(dir / "reports" / "crash-safety.journal.json"));
    std::cout << fmt::format("whole run: {:.0f} ms, first fault injected after {:.0f} ms, faults in place for {:.0f} ms\n",
                             ms_between(started, steady::now()), ms_between(started, first_injected), window_ms);
  }
  CHECK(recorded_faults(state) == 0);
  const auto after_whole_run = system_state(lab);
  INFO(differences(before, after_whole_run));
  REQUIRE(after_whole_run == before);

  const int kills = kills_wanted();
  std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> within(0.0, 1.0);
  std::map<phase, int> landed;
  int with_faults_recorded = 0;
  double slowest_recover_ms = 0;
  for (int k = 0; k < kills; ++k) {
    const auto log = dir / fmt::format("run-{}.log", k + 1);
    run_process run(lab, experiment, dir, log);
    // Aimed after this run's first "injected" line, stratified over the window: kill k lands in
    // the k-th of `kills` equal slices of the first 90 % of it (a run here may be a little faster
    // than the whole run was; a slower one only moves the kill further inside the window).
    REQUIRE(test::eventually([&] { return progress_of(log).injected > 0; }, 60s));
    const double at_ms = 0.9 * window_ms * (k + within(random)) / kills;
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(at_ms));
    // Stopped first so that the list of its children and its log are complete when the SIGKILL lands.
    ::kill(run.pid(), SIGSTOP);
    const auto children = descendants(run.pid());
    const auto recorded = recorded_faults(state);
    const auto reached = progress_of(log);
    ::kill(run.pid(), SIGKILL);
    CHECK(run.wait() == 128 + SIGKILL);
    ++landed[phase_of(reached)];
    with_faults_recorded += recorded > 0;

    const auto recover_start = steady::now();
    auto recovered = test::run_command(test::faultline_binary() + " recover --state-file " + state.string() + " 2>&1");
    const double recover_ms = ms_between(recover_start, steady::now());
    slowest_recover_ms = std::max(slowest_recover_ms, recover_ms);
    INFO("kill " << k + 1 << " at " << at_ms << " ms after the first fault (window " << window_ms << " ms), "
                 << reached.injected << " injected, " << reached.reverted << " reverted, " << recorded
                 << " faults recorded, " << children.size() << " child processes\n" << recovered.output);
    CHECK(recovered.exit_code == 0);
    CHECK(recorded_faults(state) == 0);
    const auto after = system_state(lab);
    INFO(differences(before, after));
    CHECK(after == before);
    for (const auto& child : children) {
      const bool gone = test::eventually([&] { return !storm::process_alive(child); }, 5s);
      CHECK(gone);
      // Left behind by a failed recover: the killed run's own child (same PID and start time), so
      // ours to stop, and the next kill must not see it.
      if (!gone) ::kill(static_cast<pid_t>(child.pid), SIGKILL);
    }
    std::cout << fmt::format("kill {:3}: {:5.0f} ms after the first fault, {} injected, {} reverted, {} recorded, "
                             "{:2} child processes, recover {:4.0f} ms\n",
                             k + 1, at_ms, reached.injected, reached.reverted, recorded, children.size(), recover_ms);
  }
  std::cout << fmt::format("{} kills: {} before the first fault was injected, {} while faults were in place, {} after the "
                           "last was reverted; {} with faults in the state file; slowest recover {:.0f} ms\n",
                           kills, landed[phase::before], landed[phase::active], landed[phase::after], with_faults_recorded,
                           slowest_recover_ms);
  // The kills are aimed at the fault window; a test that killed only before or after the faults
  // would prove nothing. Some margin: a run may be faster than the one that set the window.
  CHECK(landed[phase::before] == 0);
  CHECK(landed[phase::active] * 10 >= kills * 8);
}
