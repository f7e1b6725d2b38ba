#include "faults/process/process_target.hpp"

#include "faults/fault.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace faultline::process {
namespace {

struct stat_fields {
  std::string name;
  char state = 0;
  std::uint64_t start_time = 0;
};

std::optional<stat_fields> read_stat(std::int64_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size()) return std::nullopt;
  stat_fields f;
  f.name = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 3) f.state = field.empty() ? 0 : field[0];
    if (i == 22) f.start_time = std::stoull(field);
  }
  return f;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

process_ref from_pid(std::int64_t pid, const std::string& target) {
  auto f = read_stat(pid);
  if (!f) throw faults::fault_error(fmt::format("process target '{}': no process with PID {} is running", target, pid));
  return {pid, f->start_time, f->name};
}

}  // namespace

process_ref resolve_process(const std::string& target) {
  if (all_digits(target)) return from_pid(std::stoll(target), target);
  if (target.find('/') != std::string::npos) {
    std::ifstream in(target);
    std::string text;
    if (!in || !std::getline(in, text))
      throw faults::fault_error(fmt::format("process target '{}': cannot read the pid file (does the service run?)", target));
    text.erase(std::remove_if(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); }), text.end());
    if (!all_digits(text))
      throw faults::fault_error(fmt::format("process target '{}': the pid file holds '{}', not a PID", target, text));
    return from_pid(std::stoll(text), target);
  }
  std::vector<process_ref> matches;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (!all_digits(name)) continue;
    auto f = read_stat(std::stoll(name));
    if (f && f->name == target && f->state != 'Z') matches.push_back({std::stoll(name), f->start_time, f->name});
  }
  if (matches.empty())
    throw faults::fault_error(fmt::format("process target '{}': no process has that exact name; give a PID or a pid file", target));
  if (matches.size() > 1) {
    std::string pids;
    for (const auto& m : matches) pids += (pids.empty() ? "" : ", ") + std::to_string(m.pid);
    throw faults::fault_error(fmt::format("process target '{}': {} processes have that name (PIDs {}); give a PID or a "
                                          "pid file so faultline acts on exactly one",
                                          target, matches.size(), pids));
  }
  return matches.front();
}

std::optional<process_ref> still_running(const process_ref& p) {
  auto f = read_stat(p.pid);
  if (!f || f->start_time != p.start_time || f->state == 'Z') return std::nullopt;
  return p;
}

char process_state(std::int64_t pid) {
  auto f = read_stat(pid);
  return f ? f->state : 0;
}

}  // namespace faultline::process
