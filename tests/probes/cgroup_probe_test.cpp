// The cgroup probe against a cgroup v2 the test creates under the cgroup2 mount, with
// resource_hog (200 MiB, one core) moved into it. Skipped, with the reason, where cgroup v2 is
// not mounted or not writable; the memory and pids part also where those controllers are not
// enabled for the new cgroup (hybrid systems bind them to cgroup v1).

#include "probes/cgroup_probe.hpp"
#include "tests/probes/probe_test_params.hpp"
#include "tests/probes/resource_hog.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/skip.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A cgroup created for the test and removed (once its processes are gone) at the end.
class scratch_cgroup {
public:
  scratch_cgroup() {
    const auto mount = cgroup2_mount();
    if (!mount) test::skip("no cgroup v2 hierarchy is mounted here (/proc/self/mounts lists no cgroup2)");
    dir_ = *mount / ("faultline-test-" + std::to_string(::getpid()));
    if (::mkdir(dir_.c_str(), 0755) != 0)
      test::skip("cgroup v2 at " + mount->string() + " is not writable (" + std::strerror(errno) +
                 "): run the test as root on a system with a writable cgroup v2");
  }
  ~scratch_cgroup() { remove(); }
  const fs::path& dir() const { return dir_; }

  // Removes what the test made, then skips it (a skip ends the process without destructors).
  [[noreturn]] void skip(const std::string& reason) {
    remove();
    test::skip(reason);
  }

  // Starts resource_hog and moves it into the cgroup.
  pid_t start_hog() {
    child_ = std::make_unique<test::resource_hog>();
    std::ofstream procs(dir_ / "cgroup.procs");
    procs << child_->pid() << "\n";
    procs.flush();
    if (!procs) skip("cannot move a process into " + dir_.string() + " (cgroup.procs refused it)");
    return child_->pid();
  }

  bool has(const char* file) const { return fs::exists(dir_ / file); }

private:
  void remove() {
    child_.reset();  // killed and reaped: the cgroup is empty
    test::eventually([&] { return ::rmdir(dir_.c_str()) == 0 || errno == ENOENT; }, 10s);
  }

  fs::path dir_;
  std::unique_ptr<test::resource_hog> child_;
};

double usage_seconds(const fs::path& dir) {
  std::ifstream in(dir / "cpu.stat");
  std::string key;
  double value = 0;
  while (in >> key >> value)
    if (key == "usage_usec") return value / 1e6;
  return -1;
}

std::int64_t single(const fs::path& file) {
  std::ifstream in(file);
  std::int64_t v = -1;
  in >> v;
  return v;
}

std::map<std::string, double> by_name(const std::vector<reading>& readings) {
  std::map<std::string, double> out;
  for (const auto& r : readings) out[std::string(r.what->name)] = r.value;
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("cgroup probe: CPU seconds and CPU share of a cgroup with a spinning process", "[probes]") {
  scratch_cgroup group;
  group.start_hog();
  boost::asio::io_context io;
  auto p = test::make_probe("cgroup", test::probe_params("cgroup", {{"path", group.dir().string()}}), io.get_executor());

  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = usage_seconds(group.dir());
  REQUIRE(test::run_awaitable(io, p->check(probes::clock::now())).result == outcome::ok);
  REQUIRE(test::eventually([&] { return usage_seconds(group.dir()) - cpu0 >= 0.8 && seconds_since(wall0) >= 1; }, 60s));
  REQUIRE(test::run_awaitable(io, p->check(probes::clock::now())).result == outcome::ok);
  const double cpu1 = usage_seconds(group.dir());
  const double measured_share = (cpu1 - cpu0) / seconds_since(wall0);
  const auto r = by_name(p->readings());

  INFO("the cgroup got " << measured_share << " cores; the probe says " << r.at("cpu"));
  CHECK(r.at("cpu") == Approx(measured_share).epsilon(0.10));
  CHECK(r.at("cpu_seconds") <= cpu1);
  CHECK(r.at("cpu_seconds") == Approx(cpu1).margin(0.05 + 0.1 * (cpu1 - cpu0)));
}

TEST_CASE("cgroup probe: memory and pids of a cgroup holding 200 MiB", "[probes]") {
  scratch_cgroup group;
  if (!group.has("memory.current") || !group.has("pids.current"))
    group.skip("the memory and pids controllers are not enabled for " + group.dir().string() +
               " (not in its parent's cgroup.subtree_control; on hybrid systems they belong to cgroup v1)");
  const auto pid = group.start_hog();
  boost::asio::io_context io;
  auto p = test::make_probe("cgroup", test::probe_params("cgroup", {{"path", group.dir().string()}}), io.get_executor());
  REQUIRE(test::run_awaitable(io, p->check(probes::clock::now())).result == outcome::ok);
  const auto r = by_name(p->readings());
  const double mib = 1048576.0;
  CHECK(r.at("memory") == Approx(static_cast<double>(single(group.dir() / "memory.current"))).epsilon(0.02));
  CHECK(r.at("memory") >= 0.95 * test::resource_hog::mib * mib);
  CHECK(r.at("pids") == static_cast<double>(single(group.dir() / "pids.current")));
  CHECK(r.at("pids") == 1 + test::resource_hog::idle_threads);  // threads count as pids
  CHECK(r.at("oom_kills") == 0);
  (void)pid;
}

TEST_CASE("cgroup probe: a path that is not a cgroup v2 directory says so", "[probes]") {
  boost::asio::io_context io;
  CHECK_THROWS_WITH(test::make_probe("cgroup", test::probe_params("cgroup", {{"path", std::string("/nonexistent/group")}}),
                                     io.get_executor()),
                    Catch::Contains("is not a directory"));
  CHECK_THROWS_WITH(test::make_probe("cgroup", test::probe_params("cgroup", {{"path", std::string("/tmp")}}), io.get_executor()),
                    Catch::Contains("is not a cgroup v2 directory"));
}
