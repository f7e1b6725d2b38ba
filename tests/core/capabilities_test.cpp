#include "core/capabilities.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <fstream>
#include <string>

using namespace faultline;

namespace {

// The effective set as /proc says it, to check the system call's answer against.
unsigned long long effective_from_proc() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  FAIL("no CapEff line in /proc/self/status");
  return 0;
}

}  // namespace

TEST_CASE("has_capability reads the effective set", "[core]") {
  const auto effective = effective_from_proc();
  CHECK(has_capability("CAP_NET_ADMIN") == ((effective >> 12) & 1U));
  CHECK(has_capability("CAP_KILL") == ((effective >> 5) & 1U));
  CHECK(has_capability("CAP_SYS_ADMIN") == ((effective >> 21) & 1U));
  CHECK_THROWS_WITH(has_capability("CAP_NET_ADMN"), "unknown capability 'CAP_NET_ADMN'");
}

TEST_CASE("process_identity names root or the user and uid", "[core]") {
  if (::geteuid() == 0) CHECK(process_identity() == "root");
  else CHECK_THAT(process_identity(), Catch::Contains("(uid " + std::to_string(::geteuid()) + ")"));
}
