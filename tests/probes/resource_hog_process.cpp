#include "tests/probes/resource_hog.hpp"

#include <catch2/catch.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace faultline::test {

resource_hog::resource_hog() {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execl(RESOURCE_HOG, "resource_hog", std::to_string(mib).c_str(), std::to_string(idle_threads).c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  pollfd p{out[0], POLLIN, 0};
  const bool ready = ::poll(&p, 1, 30'000) == 1;  // it says "ready" once everything is in place
  char line[16] = {};
  const bool said = ready && ::read(out[0], line, sizeof(line) - 1) > 0;
  ::close(out[0]);
  REQUIRE(said);
  REQUIRE(std::string(line).starts_with("ready"));
}

resource_hog::~resource_hog() {
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

double cpu_seconds_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace faultline::test
