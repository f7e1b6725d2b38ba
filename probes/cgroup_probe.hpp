#pragma once
// The cgroup probe: watches a cgroup v2 of the system under test (a systemd service, a container)
// through its files: cpu.stat (CPU seconds, CPU share, throttling), memory.current, memory.events
// and pids.current; what the kernel does not provide there (a controller that is not enabled) is
// left out. The path is checked when the probe starts; a check fails (unexpected_value) once the
// cgroup is gone.

#include "probes/probe.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace faultline::probes {

struct cgroup_probe_config {
  std::string path;  // absolute, or relative to the cgroup v2 mount
  static cgroup_probe_config from(const params& p);  // throws param_error
};

// Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup; /sys/fs/cgroup/unified on hybrid
// systems); none when there is none.
std::optional<std::filesystem::path> cgroup2_mount();

// The directory of a cgroup as written: an absolute path, or one relative to the cgroup v2 mount.
// Throws std::runtime_error naming the path and the fix when it is not a cgroup v2 directory.
std::filesystem::path resolve_cgroup(const std::string& path);

struct cgroup_usage {
  std::optional<double> cpu_seconds;            // cpu.stat usage_usec
  std::optional<double> throttled_seconds;      // cpu.stat throttled_usec (cpu controller)
  std::optional<std::uint64_t> throttled_periods;  // cpu.stat nr_throttled
  std::optional<std::int64_t> memory_bytes;     // memory.current (memory controller)
  std::map<std::string, std::uint64_t> memory_events;  // memory.events: low, high, max, oom, oom_kill
  std::optional<std::int64_t> pids;             // pids.current (pids controller)
};

// None when the cgroup is gone.
std::optional<cgroup_usage> read_cgroup_usage(const std::filesystem::path& dir);

class cgroup_probe : public probe {
public:
  // Checks the path now: throws std::runtime_error when it is not a cgroup v2 directory.
  cgroup_probe(std::shared_ptr<const cgroup_probe_config> config, boost::asio::any_io_executor executor);
  boost::asio::awaitable<sample> check(clock::time_point intended) override;
  std::vector<reading> readings() const override { return readings_; }
  const std::filesystem::path& directory() const { return dir_; }

private:
  std::shared_ptr<const cgroup_probe_config> config_;
  std::filesystem::path dir_;
  cpu_share cpu_;
  std::vector<reading> readings_;
};

}  // namespace faultline::probes
