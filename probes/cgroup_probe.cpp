#include "probes/cgroup_probe.hpp"

#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace faultline::probes {
namespace {

bool is_cgroup2(const std::filesystem::path& dir) {
  struct statfs fs {};
  return ::statfs(dir.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

// "key value" lines (cpu.stat, memory.events).
std::map<std::string, std::uint64_t> read_keyed(const std::filesystem::path& file) {
  std::map<std::string, std::uint64_t> out;
  std::ifstream in(file);
  std::string key;
  std::uint64_t value = 0;
  while (in >> key >> value) out[key] = value;
  return out;
}

std::optional<std::int64_t> read_single(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::int64_t value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

}  // namespace

cgroup_probe_config cgroup_probe_config::from(const params& p) {
  cgroup_probe_config c;
  c.path = p.text("path");
  if (c.path.find_first_not_of(" \t") == std::string::npos)
    throw param_error("path", "the path is empty; give a cgroup v2 directory, e.g. system.slice/shop.service");
  return c;
}

std::optional<std::filesystem::path> cgroup2_mount() {
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string device, point, type;
    if (fields >> device >> point >> type && type == "cgroup2") return std::filesystem::path(point);
  }
  return std::nullopt;
}

std::filesystem::path resolve_cgroup(const std::string& path) {
  std::filesystem::path dir(path);
  if (dir.is_relative()) {
    auto mount = cgroup2_mount();
    if (!mount)
      throw std::runtime_error(fmt::format("cgroup '{}': this system has no cgroup v2 hierarchy mounted; give an absolute "
                                           "path or mount cgroup2", path));
    dir = *mount / dir;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::runtime_error(fmt::format("cgroup '{}': {} is not a directory (see /proc/<pid>/cgroup for a process's cgroup)",
                                         path, dir.string()));
  if (!is_cgroup2(dir) || !std::filesystem::exists(dir / "cgroup.procs", ec))
    throw std::runtime_error(fmt::format("cgroup '{}': {} is not a cgroup v2 directory (cgroup v1 is not supported)", path,
                                         dir.string()));
  return dir;
}

std::optional<cgroup_usage> read_cgroup_usage(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / "cgroup.procs", ec)) return std::nullopt;
  cgroup_usage u;
  const auto cpu = read_keyed(dir / "cpu.stat");
  if (auto it = cpu.find("usage_usec"); it != cpu.end()) u.cpu_seconds = static_cast<double>(it->second) / 1e6;
  if (auto it = cpu.find("throttled_usec"); it != cpu.end()) u.throttled_seconds = static_cast<double>(it->second) / 1e6;
  if (auto it = cpu.find("nr_throttled"); it != cpu.end()) u.throttled_periods = it->second;
  u.memory_bytes = read_single(dir / "memory.current");
  u.memory_events = read_keyed(dir / "memory.events");
  u.pids = read_single(dir / "pids.current");
  return u;
}

cgroup_probe::cgroup_probe(std::shared_ptr<const cgroup_probe_config> config, boost::asio::any_io_executor)
    : config_(std::move(config)), dir_(resolve_cgroup(config_->path)) {}

boost::asio::awaitable<sample> cgroup_probe::check(clock::time_point intended) {
  const auto started = clock::now();
  readings_.clear();
  const auto usage = read_cgroup_usage(dir_);
  if (!usage) {
    cpu_.reset();
    co_return finished(intended, started, outcome::unexpected_value);
  }
  const auto now = clock::now();
  const auto add = [&](std::string_view name, double value) {
    if (const auto* q = find_quantity(cgroup_quantities(), name)) readings_.push_back({q, value});
  };
  if (usage->cpu_seconds) {
    add("cpu_seconds", *usage->cpu_seconds);
    if (auto share = cpu_.next(now, *usage->cpu_seconds)) add("cpu", *share);
  }
  if (usage->throttled_seconds) add("cpu_throttled_seconds", *usage->throttled_seconds);
  if (usage->throttled_periods) add("cpu_throttled_periods", static_cast<double>(*usage->throttled_periods));
  if (usage->memory_bytes) add("memory", static_cast<double>(*usage->memory_bytes));
  for (const auto& q : cgroup_quantities()) {
    if (q.label_name != "event") continue;
    if (auto it = usage->memory_events.find(std::string(q.label_value)); it != usage->memory_events.end())
      readings_.push_back({&q, static_cast<double>(it->second)});
  }
  if (usage->pids) add("pids", static_cast<double>(*usage->pids));
  co_return finished(intended, started, outcome::ok);
}

}  // namespace faultline::probes
