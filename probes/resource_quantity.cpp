#include "probes/resource_quantity.hpp"

#include <algorithm>
#include <array>

namespace faultline::probes {
namespace {

using enum quantity_unit;

constexpr std::array<quantity, 16> process_table{{
    {"cpu_seconds", seconds, "CPU time the process used (user + system, every thread) since it started",
     "faultline_process_cpu_seconds_total", true, "", "", ""},
    {"cpu", share, "CPU in use: CPU seconds per second between two checks (1 = one core busy)",
     "faultline_process_cpu_usage_ratio", false, "", "", "cpu"},
    {"rss", bytes, "resident set size", "faultline_process_resident_memory_bytes", false, "", "", "memory"},
    {"fds", count, "open file descriptors", "faultline_process_open_fds", false, "", "", ""},
    {"threads", count, "threads", "faultline_process_threads", false, "", "", ""},
    {"connections", count, "TCP connections in any state but LISTEN (the sum of the tcp_* states)", "", false, "", "",
     "connections"},
    {"tcp_established", count, "TCP connections in state ESTABLISHED", "faultline_process_tcp_connections", false, "state",
     "established", "connections"},
    {"tcp_syn_sent", count, "TCP connections in state SYN_SENT", "faultline_process_tcp_connections", false, "state",
     "syn_sent", ""},
    {"tcp_syn_recv", count, "TCP connections in state SYN_RECV", "faultline_process_tcp_connections", false, "state",
     "syn_recv", ""},
    {"tcp_fin_wait1", count, "TCP connections in state FIN_WAIT1", "faultline_process_tcp_connections", false, "state",
     "fin_wait1", ""},
    {"tcp_fin_wait2", count, "TCP connections in state FIN_WAIT2", "faultline_process_tcp_connections", false, "state",
     "fin_wait2", ""},
    {"tcp_close", count, "TCP sockets in state CLOSE", "faultline_process_tcp_connections", false, "state", "close", ""},
    {"tcp_close_wait", count, "TCP connections in state CLOSE_WAIT (the peer closed, the process has not)",
     "faultline_process_tcp_connections", false, "state", "close_wait", ""},
    {"tcp_last_ack", count, "TCP connections in state LAST_ACK", "faultline_process_tcp_connections", false, "state",
     "last_ack", ""},
    {"tcp_closing", count, "TCP connections in state CLOSING", "faultline_process_tcp_connections", false, "state",
     "closing", ""},
    {"tcp_listen", count, "listening TCP sockets", "faultline_process_tcp_connections", false, "state", "listen", ""},
}};

constexpr std::array<quantity, 10> cgroup_table{{
    {"cpu_seconds", seconds, "CPU time of every process in the cgroup (cpu.stat usage_usec)",
     "faultline_cgroup_cpu_seconds_total", true, "", "", ""},
    {"cpu", share, "CPU in use: CPU seconds per second between two checks (1 = one core busy)",
     "faultline_cgroup_cpu_usage_ratio", false, "", "", "cpu"},
    {"cpu_throttled_seconds", seconds, "time the cgroup was throttled by its CPU limit (cpu.stat throttled_usec)",
     "faultline_cgroup_cpu_throttled_seconds_total", true, "", "", ""},
    {"cpu_throttled_periods", count, "enforcement periods in which the cgroup was throttled (cpu.stat nr_throttled)",
     "faultline_cgroup_cpu_throttled_periods_total", true, "", "", ""},
    {"memory", bytes, "memory in use (memory.current)", "faultline_cgroup_memory_bytes", false, "", "", "memory"},
    {"memory_high", count, "times memory.high was exceeded (memory.events high)", "faultline_cgroup_memory_events_total",
     true, "event", "high", ""},
    {"memory_max", count, "times memory.max was reached (memory.events max)", "faultline_cgroup_memory_events_total",
     true, "event", "max", ""},
    {"oom", count, "times the cgroup ran out of memory (memory.events oom)", "faultline_cgroup_memory_events_total", true,
     "event", "oom", ""},
    {"oom_kills", count, "processes killed by the OOM killer (memory.events oom_kill)",
     "faultline_cgroup_memory_events_total", true, "event", "oom_kill", ""},
    {"pids", count, "processes and threads in the cgroup (pids.current)", "faultline_cgroup_pids", false, "", "", ""},
}};

}  // namespace

std::string_view family_help(const quantity& q) {
  if (q.label_name == "state") return "TCP sockets of the process by state (from /proc/<pid>/net/tcp and tcp6; TIME_WAIT sockets belong to no process)";
  if (q.label_name == "event") return "memory.events counters of the cgroup (high, max, oom, oom_kill)";
  return q.help;
}

std::span<const quantity> process_quantities() { return process_table; }
std::span<const quantity> cgroup_quantities() { return cgroup_table; }

const quantity* find_quantity(std::span<const quantity> table, std::string_view name) {
  for (const auto& q : table)
    if (q.name == name) return &q;
  return nullptr;
}

const quantity* find_quantity(std::string_view name) {
  if (const auto* q = find_quantity(process_table, name)) return q;
  return find_quantity(cgroup_table, name);
}

std::optional<double> cpu_share::next(std::chrono::steady_clock::time_point now, double cpu_seconds) {
  std::optional<double> share;
  if (previous_ && now > previous_->first)
    share = std::max(0.0, cpu_seconds - previous_->second) / std::chrono::duration<double>(now - previous_->first).count();
  previous_ = {now, cpu_seconds};
  return share;
}

std::string quantity_series_name(std::string_view probe, const quantity& q) {
  std::string out(probe);
  out += '.';
  out += q.name;
  return out;
}

std::optional<quantity_series> split_quantity_series(std::string_view series) {
  const auto dot = series.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  const auto* q = find_quantity(series.substr(dot + 1));
  if (!q) return std::nullopt;
  return quantity_series{series.substr(0, dot), q};
}

}  // namespace faultline::probes
