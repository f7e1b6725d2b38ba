#pragma once
// A network namespace made for one test, with a veth pair va/vb inside, removed by name when the
// test ends, passes or fails. Addresses come from 10.200.0.0/16.

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace faultline::test {

// Runs a shell command; returns its output; throws when it fails.
inline std::string shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buf{};
  while (auto n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  if (pclose(p) != 0) throw std::runtime_error(command + " failed: " + out);
  return out;
}

class scratch_netns {
public:
  explicit scratch_netns(const std::string& tag)
      : name_(fmt::format("fl-{}-{}", tag, ::getpid())) {
    std::system(fmt::format("ip netns del {} 2>/dev/null", name_).c_str());  // a leftover of a killed run
    shell("ip netns add " + name_);
    try {
      in("ip link add va type veth peer name vb");
      in("ip link set lo up");
      in("ip link set va up");
      in("ip link set vb up");
    } catch (...) {
      std::system(fmt::format("ip netns del {} 2>/dev/null", name_).c_str());
      throw;
    }
  }
  ~scratch_netns() { std::system(fmt::format("ip netns del {} 2>/dev/null", name_).c_str()); }
  scratch_netns(const scratch_netns&) = delete;
  scratch_netns& operator=(const scratch_netns&) = delete;

  const std::string& name() const { return name_; }
  std::string in(const std::string& command) const { return shell(fmt::format("ip netns exec {} {}", name_, command)); }
  // The device's tree as tc prints it: the independent witness of "unchanged". htb's
  // direct_packets_stat is a counter (IPv6 router solicitations move it), not configuration.
  std::string tc_tree(const std::string& dev = "va") const {
    auto text = in("tc qdisc show dev " + dev) + in("tc class show dev " + dev) + in("tc filter show dev " + dev);
    for (auto at = text.find("direct_packets_stat "); at != std::string::npos; at = text.find("direct_packets_stat ", at + 1)) {
      auto end = text.find(' ', at + 20);
      text.erase(at + 20, end == std::string::npos ? std::string::npos : end - at - 20);
    }
    return text;
  }

private:
  std::string name_;
};

}  // namespace faultline::test
