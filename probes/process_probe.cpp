#include "probes/process_probe.hpp"

#include "core/log.hpp"

#include <fmt/format.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace faultline::probes {
namespace {

// The quantity of each kernel TCP state (include/net/tcp_states.h); TIME_WAIT and NEW_SYN_RECV
// sockets belong to no process and are not listed.
constexpr std::array<std::string_view, 13> state_quantities{
    "", "tcp_established", "tcp_syn_sent", "tcp_syn_recv", "tcp_fin_wait1", "tcp_fin_wait2", "",
    "tcp_close", "tcp_close_wait", "tcp_last_ack", "tcp_listen", "tcp_closing", ""};
constexpr std::size_t listen_state = 10;

// The socket inodes among a process's descriptors, and how many descriptors it has; none when
// the directory cannot be listed.
std::optional<std::int64_t> list_descriptors(std::int64_t pid, std::set<std::uint64_t>& sockets) {
  std::error_code ec;
  std::filesystem::directory_iterator it(fmt::format("/proc/{}/fd", pid), ec);
  if (ec) return std::nullopt;
  std::int64_t count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++count;
    const auto target = std::filesystem::read_symlink(it->path(), ec);
    if (ec) continue;  // closed meanwhile
    const auto text = target.native();
    if (text.starts_with("socket:[") && text.back() == ']') {
      std::uint64_t inode = 0;
      const auto* first = text.data() + 8;
      if (std::from_chars(first, text.data() + text.size() - 1, inode).ec == std::errc()) sockets.insert(inode);
    }
  }
  return count;
}

// Adds the states of the listed sockets, asking the kernel (sock_diag) for this network
// namespace's TCP sockets in every state but TIME_WAIT and NEW_SYN_RECV: those belong to no
// process, and on a busy host they are most of /proc/net/tcp, which costs the kernel tens of
// milliseconds to print. False when sock_diag is not available.
bool count_tcp_diag(const std::set<std::uint64_t>& sockets, tcp_state_counts& out) {
  const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return false;
  bool ok = true;
  for (const auto family : {AF_INET, AF_INET6}) {
    struct {
      nlmsghdr header;
      inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof(message);
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = static_cast<std::uint8_t>(family);
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ((1u << 12) - 1) & ~(1u << 6) & ~1u;  // states 1..11 but TIME_WAIT (6)
    if (::send(fd, &message, sizeof(message), 0) != static_cast<ssize_t>(sizeof(message))) {
      ok = false;
      break;
    }
    alignas(nlmsghdr) char buffer[32768];
    bool done = false;
    while (!done && ok) {
      const auto n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        ok = false;
        break;
      }
      int left = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) {
          ok = false;
          break;
        }
        constexpr std::size_t header = (sizeof(nlmsghdr) + NLMSG_ALIGNTO - 1) & ~std::size_t{NLMSG_ALIGNTO - 1};
        const auto* d = reinterpret_cast<const inet_diag_msg*>(reinterpret_cast<const char*>(h) + header);
        if (sockets.contains(d->idiag_inode) && d->idiag_state < out.size()) ++out[d->idiag_state];
      }
    }
  }
  ::close(fd);
  return ok;
}

bool same_network_namespace(std::int64_t pid) {
  std::error_code a, b;
  const auto mine = std::filesystem::read_symlink("/proc/self/ns/net", a);
  const auto theirs = std::filesystem::read_symlink(fmt::format("/proc/{}/ns/net", pid), b);
  return !a && !b && mine == theirs;
}

// Adds the states of the listed sockets found in one /proc/<pid>/net/tcp{,6} table (a process in
// another network namespace).
void count_tcp(const std::string& table, const std::set<std::uint64_t>& sockets, tcp_state_counts& out) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    std::uint64_t inode = 0;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode)) continue;
    if (!sockets.contains(inode)) continue;
    unsigned st = 0;
    if (std::from_chars(state.data(), state.data() + state.size(), st, 16).ec != std::errc()) continue;
    if (st < out.size()) ++out[st];
  }
}

}  // namespace

process_probe_config process_probe_config::from(const params& p) {
  process_probe_config c;
  c.target = p.text("target");
  if (c.target.find_first_not_of(" \t") == std::string::npos)
    throw param_error("target", "the target is empty; give a PID (4242), a pid file (/run/shop.pid) or a process name");
  return c;
}

std::optional<process_usage> read_process_usage(std::int64_t pid) {
  const auto stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  process_usage u;
  u.cpu_seconds = static_cast<double>(stat->user_ticks + stat->system_ticks) / clock_ticks_per_second();
  u.rss_bytes = stat->rss_pages * page_size();
  u.threads = stat->threads;
  std::set<std::uint64_t> sockets;
  u.fds = list_descriptors(pid, sockets);
  if (u.fds) {
    tcp_state_counts tcp{};
    if (!sockets.empty() && !(same_network_namespace(pid) && count_tcp_diag(sockets, tcp))) {
      tcp = {};
      count_tcp(fmt::format("/proc/{}/net/tcp", pid), sockets, tcp);
      count_tcp(fmt::format("/proc/{}/net/tcp6", pid), sockets, tcp);
    }
    u.tcp = tcp;
  }
  return u;
}

process_probe::process_probe(std::shared_ptr<const process_probe_config> config, boost::asio::any_io_executor)
    : config_(std::move(config)), process_(find_process(config_->target)) {}

boost::asio::awaitable<sample> process_probe::check(clock::time_point intended) {
  const auto started = clock::now();
  readings_.clear();
  auto usage = still_running(process_) ? read_process_usage(process_.pid) : std::nullopt;
  // Read again after the stat line: a process that ended meanwhile reads as gone, not as zeros.
  if (!usage || !still_running(process_)) {
    cpu_.reset();
    co_return finished(intended, started, outcome::unexpected_value);
  }
  const auto now = clock::now();
  const auto add = [&](std::string_view name, double value) {
    if (const auto* q = find_quantity(process_quantities(), name)) readings_.push_back({q, value});
  };
  add("cpu_seconds", usage->cpu_seconds);
  if (auto share = cpu_.next(now, usage->cpu_seconds)) add("cpu", *share);
  add("rss", static_cast<double>(usage->rss_bytes));
  add("threads", static_cast<double>(usage->threads));
  if (usage->fds) add("fds", static_cast<double>(*usage->fds));
  if (usage->tcp) {
    std::int64_t connections = 0;
    for (std::size_t s = 0; s < state_quantities.size(); ++s) {
      if (state_quantities[s].empty()) continue;
      add(state_quantities[s], static_cast<double>((*usage->tcp)[s]));
      if (s != listen_state) connections += (*usage->tcp)[s];
    }
    add("connections", static_cast<double>(connections));
  } else if (!warned_) {
    warned_ = true;
    logger("probes")->warn("process probe: cannot list /proc/{}/fd ({}): no fds or connections; run faultline as the "
                           "process's user or as root", process_.pid, process_.name);
  }
  co_return finished(intended, started, outcome::ok);
}

}  // namespace faultline::probes
