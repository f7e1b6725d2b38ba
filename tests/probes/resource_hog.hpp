#pragma once
// resource_hog (resource_hog.cpp) started by a test: 200 MiB resident, one core spinning, 3 idle
// threads, 5 descriptors on /dev/null and a TCP connection to itself; killed by its PID when the
// object goes.

#include <sys/types.h>

namespace faultline::test {

class resource_hog {
public:
  static constexpr int mib = 200;
  static constexpr int idle_threads = 3;

  resource_hog();  // returns once the child said it is ready
  ~resource_hog();
  resource_hog(const resource_hog&) = delete;
  resource_hog& operator=(const resource_hog&) = delete;
  pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
};

// The CPU time (user + system) of a process, read from /proc/<pid>/stat by the test itself.
double cpu_seconds_of(pid_t pid);

}  // namespace faultline::test
