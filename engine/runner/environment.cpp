#include "engine/runner/environment.hpp"

#include "faultline_version.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>

namespace faultline::engine {

reports::environment_info describe_environment() {
  reports::environment_info env;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) env.host = host;
  struct utsname u {};
  if (::uname(&u) == 0) env.kernel = u.release;
  std::ifstream release("/etc/os-release");
  for (std::string line; std::getline(release, line);) {
    if (!line.starts_with("PRETTY_NAME=")) continue;
    env.os = line.substr(12);
    if (env.os.size() >= 2 && env.os.front() == '"') env.os = env.os.substr(1, env.os.size() - 2);
  }
  env.faultline_version = faultline::version;
  return env;
}

std::string iso_time_now() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ms);
}

}  // namespace faultline::engine
