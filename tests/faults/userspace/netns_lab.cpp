#include "tests/faults/userspace/netns_lab.hpp"

#include "faults/userspace/netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace faultline::test {
namespace {

using faults::userspace::find_program;
using faults::userspace::in_netns;
using faults::userspace::netns_handle;
using faults::userspace::run_program;

std::string without_comments(const std::string& text) {
  std::string out, line;
  for (std::size_t start = 0; start < text.size();) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    line = text.substr(start, end - start);
    if (!line.empty() && line[0] != '#') out += line + "\n";
    start = end + 1;
  }
  return out;
}

sockaddr_in address_of(const std::string& host, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad address " + host);
  return a;
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::string netns_unavailable_reason() {
  if (::geteuid() != 0) return "network namespace tests need root";
  if (find_program("ip").empty()) return "network namespace tests need iproute2's `ip`";
  return {};
}

void ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{find_program("ip")};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_program(std::string(), argv);
  if (!r.ok()) throw std::runtime_error(faults::userspace::command_line(argv) + ": " + r.error_text());
}

netns_lab::netns_lab(const std::string& tag) {
  static std::atomic<int> counter{0};
  const int n = ++counter;
  const auto pid = std::to_string(::getpid());
  const auto base = "fl-" + tag + "-" + pid + "-" + std::to_string(n);
  client_ns_ = base + "-a";
  server_ns_ = base + "-b";
  client_dev_ = "fl" + std::to_string(n) + pid + "a";
  server_dev_ = "fl" + std::to_string(n) + pid + "b";
  try {
    ip({"netns", "add", client_ns_});
    ip({"netns", "add", server_ns_});
    ip({"-n", client_ns_, "link", "add", client_dev_, "type", "veth", "peer", "name", server_dev_, "netns", server_ns_});
    ip({"-n", client_ns_, "addr", "add", std::string(client_ip) + "/24", "dev", client_dev_});
    ip({"-n", server_ns_, "addr", "add", std::string(server_ip) + "/24", "dev", server_dev_});
    for (const auto& [ns, dev] : {std::pair{client_ns_, client_dev_}, std::pair{server_ns_, server_dev_}}) {
      ip({"-n", ns, "link", "set", dev, "up"});
      ip({"-n", ns, "link", "set", "lo", "up"});
    }
  } catch (...) {
    for (const auto& ns : {client_ns_, server_ns_}) run_program(std::string(), {find_program("ip"), "netns", "del", ns});
    throw;
  }
}

netns_lab::~netns_lab() {
  for (const auto& ns : {client_ns_, server_ns_}) run_program(std::string(), {find_program("ip"), "netns", "del", ns});
}

std::string ruleset(const std::string& netns) {
  std::string out;
  for (const char* tool : {"iptables-save", "ip6tables-save"}) {
    auto path = find_program(tool);
    if (path.empty()) continue;
    out += std::string("== ") + tool + "\n" + without_comments(run_program(netns, {path}).out);
  }
  if (auto nft = find_program("nft"); !nft.empty()) out += "== nft\n" + run_program(netns, {nft, "list", "ruleset"}).out;
  return out;
}

std::string qdiscs(const std::string& netns, const std::string& device) {
  return run_program(netns, {find_program("tc"), "qdisc", "show", "dev", device}).out;
}

struct echo_server::state {
  netns_handle ns;
  std::vector<int> listeners;
  int udp = -1;
  int stop_pipe[2] = {-1, -1};
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<std::uint32_t> sequence;
  std::vector<int> clients;
  explicit state(const std::string& netns) : ns(netns) {}
};

echo_server::echo_server(const std::string& netns, std::vector<std::uint16_t> tcp_ports, std::uint16_t udp_port)
    : state_(new state(netns)) {
  auto& s = *state_;
  in_netns(s.ns, [&] {
    for (auto port : tcp_ports) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      auto a = address_of(netns_lab::server_ip, port);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0)
        throw std::runtime_error("echo server: bind/listen: " + std::string(std::strerror(errno)));
      s.listeners.push_back(fd);
    }
    if (udp_port) {
      s.udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      int size = 8 << 20;
      ::setsockopt(s.udp, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
      auto a = address_of(netns_lab::server_ip, udp_port);
      if (::bind(s.udp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("udp counter: bind: " + std::string(std::strerror(errno)));
    }
  });
  if (::pipe2(s.stop_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  s.thread = std::thread([&s] {
    for (;;) {
      std::vector<pollfd> fds{{s.stop_pipe[0], POLLIN, 0}};
      for (int l : s.listeners) fds.push_back({l, POLLIN, 0});
      if (s.udp >= 0) fds.push_back({s.udp, POLLIN, 0});
      for (int c : s.clients) fds.push_back({c, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;
      if (fds[0].revents) return;
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        const int fd = fds[i].fd;
        if (std::find(s.listeners.begin(), s.listeners.end(), fd) != s.listeners.end()) {
          int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (c >= 0) {
            int one = 1;
            ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            s.clients.push_back(c);
          }
        } else if (fd == s.udp) {
          char buf[65536];
          auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
          if (n >= 4) {
            std::uint32_t seq;
            std::memcpy(&seq, buf, 4);
            std::lock_guard lock(s.mutex);
            s.sequence.push_back(ntohl(seq));
          }
        } else {
          char buf[4096];
          auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
          if (n > 0) {
            ::send(fd, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
          } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            ::close(fd);
            s.clients.erase(std::find(s.clients.begin(), s.clients.end(), fd));
          }
        }
      }
    }
  });
}

echo_server::~echo_server() {
  auto& s = *state_;
  char x = 1;
  if (::write(s.stop_pipe[1], &x, 1) < 0) {
  }
  s.thread.join();
  for (int fd : s.listeners) ::close(fd);
  for (int fd : s.clients) ::close(fd);
  if (s.udp >= 0) ::close(s.udp);
  ::close(s.stop_pipe[0]);
  ::close(s.stop_pipe[1]);
  delete state_;
}

std::uint64_t echo_server::udp_received() const {
  std::lock_guard lock(state_->mutex);
  return state_->sequence.size();
}

std::vector<std::uint32_t> echo_server::udp_sequence() const {
  std::lock_guard lock(state_->mutex);
  return state_->sequence;
}

void echo_server::reset_udp() {
  std::lock_guard lock(state_->mutex);
  state_->sequence.clear();
}

tcp_timing measure_tcp(const std::string& netns, const std::string& host, std::uint16_t port, int connections, int requests) {
  netns_handle ns(netns);
  return in_netns(ns, [&] {
    tcp_timing t;
    const auto a = address_of(host, port);
    for (int c = 0; c < connections; ++c) {
      fd_guard fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
      int one = 1;
      ::setsockopt(fd.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      timeval timeout{5, 0};
      ::setsockopt(fd.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      ::setsockopt(fd.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
      auto start = std::chrono::steady_clock::now();
      if (::connect(fd.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
      t.connect_ms.push_back(ms_since(start));
      for (int r = 0; r < requests; ++r) {
        char byte = 'x';
        start = std::chrono::steady_clock::now();
        if (::send(fd.fd, &byte, 1, MSG_NOSIGNAL) != 1 || ::recv(fd.fd, &byte, 1, 0) != 1)
          throw std::runtime_error("echo request failed: " + std::string(std::strerror(errno)));
        t.rtt_ms.push_back(ms_since(start));
      }
    }
    return t;
  });
}

void send_udp(const std::string& netns, const std::string& host, std::uint16_t port, int count, double rate, std::size_t size) {
  netns_handle ns(netns);
  in_netns(ns, [&] {
    fd_guard fd{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    const auto a = address_of(host, port);
    std::vector<char> buf(std::max<std::size_t>(size, 4), 'u');
    const auto start = std::chrono::steady_clock::now();
    const auto interval = std::chrono::duration<double>(1.0 / rate);
    for (int i = 0; i < count; ++i) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::nanoseconds>(interval * i));
      const std::uint32_t seq = htonl(static_cast<std::uint32_t>(i));
      std::memcpy(buf.data(), &seq, 4);
      ::sendto(fd.fd, buf.data(), buf.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    }
  });
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace faultline::test
