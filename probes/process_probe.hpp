#pragma once
// The process probe: watches one process of the system under test through /proc: CPU seconds and
// CPU share, resident memory, open descriptors, threads and TCP connections by state. Its target
// (a PID, a pid file or an exact process name) is resolved once, when the probe starts; a check
// fails (unexpected_value) once that process is gone or its PID names another process.

#include "core/proc.hpp"
#include "probes/probe.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faultline::probes {

struct process_probe_config {
  std::string target;
  static process_probe_config from(const params& p);  // throws param_error
};

// TCP sockets of one process by kernel state (index: the state's number in /proc/net/tcp).
using tcp_state_counts = std::array<std::int64_t, 13>;

// One look at a process in /proc.
struct process_usage {
  double cpu_seconds = 0;  // user + system, every thread
  std::int64_t rss_bytes = 0;
  std::int64_t threads = 0;
  // None without permission to list /proc/<pid>/fd (another user's process, without root).
  std::optional<std::int64_t> fds;
  std::optional<tcp_state_counts> tcp;
};

// None when the process is gone.
std::optional<process_usage> read_process_usage(std::int64_t pid);

class process_probe : public probe {
public:
  // Resolves the target now: throws process_lookup_error when it names no process (or several).
  process_probe(std::shared_ptr<const process_probe_config> config, boost::asio::any_io_executor executor);
  boost::asio::awaitable<sample> check(clock::time_point intended) override;
  std::vector<reading> readings() const override { return readings_; }
  const process_ref& process() const { return process_; }

private:
  std::shared_ptr<const process_probe_config> config_;
  process_ref process_;
  cpu_share cpu_;
  std::vector<reading> readings_;
  bool warned_ = false;
};

}  // namespace faultline::probes
