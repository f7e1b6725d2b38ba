// The process probe against a child the test starts (tests/probes/resource_hog.hpp): 200 MiB
// resident, one core spinning, known threads, descriptors and TCP sockets; the probe's numbers are
// compared with what the test reads from /proc itself. On a busy machine the child may get less
// than a core, so its CPU share is compared with the CPU time the child really got over the same
// interval (from /proc/<pid>/stat), not with the wall clock.

#include "probes/process_probe.hpp"
#include "tests/probes/probe_test_params.hpp"
#include "tests/probes/resource_hog.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/run_awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> status_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    out[line.substr(0, colon)] = value;
  }
  return out;
}

std::int64_t descriptors_of(pid_t pid) {
  std::int64_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
  return n;
}

std::map<std::string, double> by_name(const std::vector<reading>& readings) {
  std::map<std::string, double> out;
  for (const auto& r : readings) out[std::string(r.what->name)] = r.value;
  return out;
}

std::unique_ptr<probe> process_probe_for(const std::string& target, boost::asio::io_context& io) {
  return test::make_probe("process", test::probe_params("process", {{"target", target}}), io.get_executor());
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("process probe: RSS, CPU, descriptors, threads and TCP states of a child holding 200 MiB and a core", "[probes]") {
  test::resource_hog child;
  boost::asio::io_context io;
  auto p = process_probe_for(std::to_string(child.pid()), io);

  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = test::cpu_seconds_of(child.pid());
  REQUIRE(test::run_awaitable(io, p->check(probes::clock::now())).result == outcome::ok);
  CHECK(by_name(p->readings()).count("cpu") == 0);  // a share needs two checks
  // Let the child use CPU time; on a busy machine that takes longer than the wall clock says.
  REQUIRE(test::eventually([&] { return test::cpu_seconds_of(child.pid()) - cpu0 >= 0.8 && seconds_since(wall0) >= 1; }, 60s));
  const auto second = test::run_awaitable(io, p->check(probes::clock::now()));
  const double cpu1 = test::cpu_seconds_of(child.pid());
  const double measured_share = (cpu1 - cpu0) / seconds_since(wall0);
  const auto status = status_of(child.pid());
  const auto fds = descriptors_of(child.pid());
  REQUIRE(second.result == outcome::ok);
  const auto r = by_name(p->readings());

  const double mib = 1048576.0;
  INFO("rss " << r.at("rss") / mib << " MiB, VmRSS " << status.at("VmRSS"));
  CHECK(r.at("rss") == Approx(test::resource_hog::mib * mib).epsilon(0.05));
  CHECK(r.at("rss") / 1024 == Approx(std::stod(status.at("VmRSS"))).epsilon(0.01));

  INFO("the child got " << measured_share << " cores over the interval; the probe says " << r.at("cpu"));
  CHECK(r.at("cpu") == Approx(measured_share).epsilon(0.10));
  if (measured_share >= 0.9)
    CHECK(r.at("cpu") == Approx(1.0).epsilon(0.10));
  else
    WARN("the machine is busy: the child got only " << measured_share << " of a core, so the probe is compared with that");
  CHECK(r.at("cpu_seconds") == Approx(cpu1).margin(0.05 + 0.1 * (cpu1 - cpu0)));

  CHECK(r.at("threads") == std::stod(status.at("Threads")));
  CHECK(r.at("threads") == 1 + test::resource_hog::idle_threads);
  CHECK(r.at("fds") == static_cast<double>(fds));
  CHECK(r.at("tcp_listen") == 1);
  CHECK(r.at("tcp_established") == 2);
  CHECK(r.at("connections") == 2);
  CHECK(r.at("tcp_close_wait") == 0);
}

TEST_CASE("process probe: a target by name or pid file, and a process that goes away", "[probes]") {
  boost::asio::io_context io;
  const auto dir = std::filesystem::temp_directory_path() / ("faultline-process-probe-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "self.pid") << ::getpid() << "\n";
  auto by_file = process_probe_for((dir / "self.pid").string(), io);
  CHECK(test::run_awaitable(io, by_file->check(probes::clock::now())).result == outcome::ok);
  std::filesystem::remove_all(dir);

  auto gone = std::make_unique<test::resource_hog>();
  const auto pid = gone->pid();
  auto p = process_probe_for(std::to_string(pid), io);
  CHECK(test::run_awaitable(io, p->check(probes::clock::now())).result == outcome::ok);
  gone.reset();  // killed and reaped
  CHECK(test::run_awaitable(io, p->check(probes::clock::now())).result == outcome::unexpected_value);
  CHECK(p->readings().empty());

  CHECK_THROWS_WITH(process_probe_for(std::to_string(pid), io), Catch::Contains("no process with PID"));
  CHECK_THROWS_WITH(process_probe_for("no-such-process-name", io), Catch::Contains("no process has that exact name"));
  CHECK_THROWS_WITH(process_probe_config::from(test::probe_params("process", {{"target", std::string(" ")}})),
                    Catch::Contains("the target is empty"));
}

TEST_CASE("resource quantities: one unit per name, valid Prometheus names, every chart known", "[probes]") {
  for (auto table : {process_quantities(), cgroup_quantities()})
    for (const auto& q : table) {
      INFO(q.name);
      CHECK(find_quantity(q.name)->unit == q.unit);  // a rule's unit does not depend on the probe type
      CHECK(split_quantity_series(quantity_series_name("shop", q))->what->name == q.name);
      if (!q.metric.empty()) {
        CHECK(q.metric.starts_with("faultline_"));
        CHECK(q.metric.ends_with("_total") == q.counter);
      }
      CHECK((q.chart.empty() || q.chart == "memory" || q.chart == "cpu" || q.chart == "connections"));
    }
  CHECK_FALSE(split_quantity_series("shop"));
  CHECK_FALSE(split_quantity_series("shop.p95"));
}
