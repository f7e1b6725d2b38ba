#include "engine/state_file.hpp"

#include "core/json_fields.hpp"

#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace faultline::engine {
namespace {

constexpr int state_version = 1;

nlohmann::json to_json(const undo_entry& e) {
  return {{"run_id", e.run_id}, {"pid", e.pid}, {"pid_start_time", e.pid_start_time}, {"experiment", e.experiment},
          {"step", e.step}, {"type", e.type}, {"record", e.record}, {"written_at", e.written_at}};
}

// A whole number that fits T (whole_number_in: nothing else is converted).
template <typename T>
T whole_number(const nlohmann::json& j, const char* name, std::optional<T> fallback = std::nullopt) {
  auto it = j.find(name);
  if (it == j.end() && fallback) return *fallback;
  if (it == j.end()) throw std::invalid_argument(fmt::format("missing '{}'", name));
  if (auto n = whole_number_in<T>(*it)) return *n;
  throw std::invalid_argument(fmt::format("'{}' must be a whole number from {} to {}, not {}", name, std::numeric_limits<T>::min(),
                                          std::numeric_limits<T>::max(), it->dump()));
}

undo_entry from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument(fmt::format("an entry must be a JSON object, not {}", j.type_name()));
  undo_entry e;
  e.run_id = j.at("run_id").get<std::string>();
  e.pid = whole_number<std::int64_t>(j, "pid");
  e.pid_start_time = whole_number<std::uint64_t>(j, "pid_start_time", 0);
  e.experiment = j.value("experiment", "");
  e.step = j.at("step").get<std::string>();
  e.type = j.at("type").get<std::string>();
  e.record = j.at("record");
  e.written_at = j.value("written_at", "");
  return e;
}

// Holds an exclusive flock on "<state>.lock" for its lifetime.
class file_lock {
public:
  explicit file_lock(const std::filesystem::path& state) {
    std::filesystem::create_directories(state.parent_path());
    auto lock = state.string() + ".lock";
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", lock, std::strerror(errno)));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) throw std::runtime_error(fmt::format("cannot lock {}: {}", lock, std::strerror(errno)));
    }
  }
  ~file_lock() { ::close(fd_); }
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;

private:
  int fd_ = -1;
};

std::vector<undo_entry> read_entries(const std::filesystem::path& path) {
  std::vector<undo_entry> out;
  std::ifstream in(path);
  if (!in) return out;
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().empty()) return out;
  const auto unreadable = [&](const std::string& why) {
    return state_file_error(fmt::format("{} is not a faultline state file ({}); if a killed run left faults behind, undo them by "
                                        "hand, then move the file aside",
                                        path.string(), why));
  };
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw unreadable("not a JSON object");
  if (!doc.contains("version") || !doc["version"].is_number_integer()) throw unreadable("no version");
  if (doc["version"] != state_version)
    throw state_file_error(fmt::format("{} has state version {}, this faultline reads {}; recover with the faultline that wrote it",
                                       path.string(), doc["version"].dump(), state_version));
  auto entries = doc.find("entries");
  if (entries == doc.end() || !entries->is_array()) throw unreadable("no list of entries");
  for (const auto& e : *entries) {
    try {
      out.push_back(from_json(e));
    } catch (const nlohmann::json::exception& x) {
      throw unreadable(fmt::format("entry {}: {}", out.size() + 1, x.what()));
    } catch (const std::invalid_argument& x) {
      throw unreadable(fmt::format("entry {}: {}", out.size() + 1, x.what()));
    }
  }
  return out;
}

// Writes atomically: a crash leaves either the old or the new file, never half of one.
void write_entries(const std::filesystem::path& path, const std::vector<undo_entry>& entries) {
  nlohmann::json doc{{"version", state_version}, {"entries", nlohmann::json::array()}};
  for (const auto& e : entries) doc["entries"].push_back(to_json(e));
  auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << doc.dump(2) << "\n";
    out.flush();
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", tmp));
  }
  std::filesystem::rename(tmp, path);
}

void update(const std::filesystem::path& path, const std::function<void(std::vector<undo_entry>&)>& change) {
  file_lock lock(path);
  auto entries = read_entries(path);
  change(entries);
  write_entries(path, entries);
}

}  // namespace

state_file::state_file(std::filesystem::path path) : path_(std::move(path)) {}

std::filesystem::path state_file::default_path() {
  if (const char* explicit_path = std::getenv("FAULTLINE_STATE_FILE"); explicit_path && *explicit_path)
    return explicit_path;
  if (::geteuid() == 0) return "/var/lib/faultline/state.json";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "faultline" / "state.json";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "/tmp") / ".local" / "state" / "faultline" / "state.json";
}

const char* state_file::default_path_rule() {
  return "$FAULTLINE_STATE_FILE, else /var/lib/faultline/state.json as root, else "
         "$XDG_STATE_HOME/faultline/state.json (~/.local/state/faultline/state.json)";
}

void state_file::add(const undo_entry& entry) {
  update(path_, [&](std::vector<undo_entry>& entries) {
    std::erase_if(entries, [&](const undo_entry& e) { return e.run_id == entry.run_id && e.step == entry.step; });
    entries.push_back(entry);
  });
}

void state_file::remove(const std::string& run_id, const std::string& step) {
  update(path_, [&](std::vector<undo_entry>& entries) {
    std::erase_if(entries, [&](const undo_entry& e) { return e.run_id == run_id && e.step == step; });
  });
}

std::vector<undo_entry> state_file::entries() const {
  file_lock lock(path_);
  return read_entries(path_);
}

std::uint64_t process_start_time(std::int64_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  // Field 22 (starttime) follows the command name in parentheses, which may contain spaces.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) return std::stoull(field);
  return 0;
}

bool owner_alive(const undo_entry& entry) {
  if (entry.pid <= 0) return false;
  auto start = process_start_time(entry.pid);
  return start != 0 && start == entry.pid_start_time;
}

}  // namespace faultline::engine
