#include "core/proc.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace faultline {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

process_ref from_pid(std::int64_t pid, const std::string& target) {
  auto f = read_proc_stat(pid);
  if (!f) throw process_lookup_error(fmt::format("process target '{}': no process with PID {} is running", target, pid));
  return {pid, f->start_time, f->name};
}

}  // namespace

std::optional<proc_stat> read_proc_stat(std::int64_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The name may hold spaces and parentheses: it runs from the first '(' to the last ')'.
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size()) return std::nullopt;
  proc_stat f;
  f.name = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  try {
    for (int i = 3; i <= 24 && rest >> field; ++i) {
      switch (i) {
        case 3: f.state = field.empty() ? 0 : field[0]; break;
        case 14: f.user_ticks = std::stoull(field); break;
        case 15: f.system_ticks = std::stoull(field); break;
        case 20: f.threads = std::stoll(field); break;
        case 22: f.start_time = std::stoull(field); break;
        case 24: f.rss_pages = std::stoll(field); break;
        default: break;
      }
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return f;
}

double clock_ticks_per_second() {
  static const double ticks = [] {
    const long t = ::sysconf(_SC_CLK_TCK);
    return t > 0 ? static_cast<double>(t) : 100.0;
  }();
  return ticks;
}

std::int64_t page_size() {
  static const std::int64_t size = [] {
    const long s = ::sysconf(_SC_PAGESIZE);
    return s > 0 ? static_cast<std::int64_t>(s) : std::int64_t{4096};
  }();
  return size;
}

process_ref find_process(const std::string& target) {
  if (all_digits(target)) return from_pid(std::stoll(target), target);
  if (target.find('/') != std::string::npos) {
    std::ifstream in(target);
    std::string text;
    if (!in || !std::getline(in, text))
      throw process_lookup_error(fmt::format("process target '{}': cannot read the pid file (does the service run?)", target));
    text.erase(std::remove_if(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); }), text.end());
    if (!all_digits(text))
      throw process_lookup_error(fmt::format("process target '{}': the pid file holds '{}', not a PID", target, text));
    return from_pid(std::stoll(text), target);
  }
  std::vector<process_ref> matches;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (!all_digits(name)) continue;
    auto f = read_proc_stat(std::stoll(name));
    if (f && f->name == target && f->state != 'Z') matches.push_back({std::stoll(name), f->start_time, f->name});
  }
  if (matches.empty())
    throw process_lookup_error(fmt::format("process target '{}': no process has that exact name; give a PID or a pid file", target));
  if (matches.size() > 1) {
    std::string pids;
    for (const auto& m : matches) pids += (pids.empty() ? "" : ", ") + std::to_string(m.pid);
    throw process_lookup_error(fmt::format("process target '{}': {} processes have that name (PIDs {}); give a PID or a "
                                           "pid file so faultline picks exactly one",
                                           target, matches.size(), pids));
  }
  return matches.front();
}

std::optional<process_ref> still_running(const process_ref& p) {
  auto f = read_proc_stat(p.pid);
  if (!f || f->start_time != p.start_time || f->state == 'Z') return std::nullopt;
  return p;
}

char process_state(std::int64_t pid) {
  auto f = read_proc_stat(pid);
  return f ? f->state : 0;
}

}  // namespace faultline
