#include "core/capabilities.hpp"

#include <fmt/format.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <stdexcept>
#include <utility>

namespace faultline {
namespace {

// The capabilities faultline's faults and daemon can need.
constexpr std::array<std::pair<std::string_view, int>, 6> known{{
    {"CAP_KILL", CAP_KILL},
    {"CAP_NET_ADMIN", CAP_NET_ADMIN},
    {"CAP_NET_BIND_SERVICE", CAP_NET_BIND_SERVICE},
    {"CAP_NET_RAW", CAP_NET_RAW},
    {"CAP_SYS_ADMIN", CAP_SYS_ADMIN},
    {"CAP_SYS_PTRACE", CAP_SYS_PTRACE},
}};

}  // namespace

bool has_capability(std::string_view name) {
  int bit = -1;
  for (const auto& [known_name, known_bit] : known)
    if (known_name == name) bit = known_bit;
  if (bit < 0) throw std::invalid_argument(fmt::format("unknown capability '{}'", name));
  // glibc has no capget() wrapper; the raw system call needs no libcap.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  if (::syscall(SYS_capget, &header, data.data()) != 0) return false;
  return (data[static_cast<std::size_t>(bit / 32)].effective & (1U << (bit % 32))) != 0;
}

std::string process_identity() {
  const auto uid = ::geteuid();
  if (uid == 0) return "root";
  passwd entry{};
  passwd* found = nullptr;
  std::array<char, 4096> buffer{};
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
    return fmt::format("user {} (uid {})", entry.pw_name, uid);
  return fmt::format("uid {}", uid);
}

}  // namespace faultline
