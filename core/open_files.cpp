#include "core/open_files.hpp"

#include <sys/resource.h>

namespace faultline {

std::int64_t raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::int64_t{1} << 20 : static_cast<std::int64_t>(limit.rlim_cur);
}

std::int64_t open_files_hard_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  return limit.rlim_max == RLIM_INFINITY ? std::int64_t{1} << 20 : static_cast<std::int64_t>(limit.rlim_max);
}

}  // namespace faultline
