#include "faults/netem/route_socket.hpp"

#include <fmt/format.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace faultline::faults::network {
namespace {

// What the answer to one request said.
struct answer {
  int error = 0;  // positive errno
  std::string kernel_message;
  std::vector<raw_message>* dump = nullptr;
};

// The kernel's extended ack text, when it sent one (NLM_F_ACK_TLVS).
std::string extack_message(const nlmsgerr* err) {
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(err) - NLMSG_HDRLEN);
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  std::size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  const auto* start = reinterpret_cast<const char*>(err);
  const auto payload = nlh->nlmsg_len - NLMSG_HDRLEN;
  for (std::size_t at = NLMSG_ALIGN(offset); at + sizeof(nlattr) <= payload;) {
    const auto* attr = reinterpret_cast<const nlattr*>(start + at);
    if (attr->nla_len < sizeof(nlattr) || at + attr->nla_len > payload) break;
    if ((attr->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
      return std::string(reinterpret_cast<const char*>(attr) + NLA_HDRLEN, strnlen(reinterpret_cast<const char*>(attr) + NLA_HDRLEN, attr->nla_len - NLA_HDRLEN));
    at += NLA_ALIGN(attr->nla_len);
  }
  return {};
}

int on_error(sockaddr_nl*, nlmsgerr* err, void* arg) {
  auto* a = static_cast<answer*>(arg);
  a->error = -err->error;
  a->kernel_message = extack_message(err);
  return NL_STOP;
}

int on_valid(nl_msg* msg, void* arg) {
  auto* a = static_cast<answer*>(arg);
  if (a->dump) {
    const auto* nlh = nlmsg_hdr(msg);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(nlh);
    a->dump->emplace_back(bytes, bytes + nlh->nlmsg_len);
  }
  return NL_OK;
}

int on_ack(nl_msg*, void*) { return NL_STOP; }

void receive(nl_sock* sock, answer& a, const std::string& what) {
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_alloc(NL_CB_DEFAULT), nl_cb_put);
  if (!cb) throw fault_error("network: out of memory for a netlink callback");
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &a);
  nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &a);
  nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &a);
  int rc = nl_recvmsgs(sock, cb.get());
  if (a.error) throw netlink_error(a.error, a.kernel_message, what);
  if (rc < 0) throw netlink_error(EIO, nl_geterror(rc), what);
}

nl_sock* connect_here() {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) throw fault_error("network: out of memory for a netlink socket");
  if (int rc = nl_connect(sock, NETLINK_ROUTE); rc < 0) {
    nl_socket_free(sock);
    throw fault_error(fmt::format("network: cannot open a netlink route socket: {}", nl_geterror(rc)));
  }
  int one = 1;
  // Ask for the kernel's error text, and for errors without a copy of our request.
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  nl_socket_enable_msg_peek(sock);
  return sock;
}

// Network namespaces are per thread: a short-lived thread enters the namespace and opens the
// socket there; the socket keeps that namespace for its whole life.
template <typename Enter>
nl_sock* connect_in_thread(Enter enter) {
  nl_sock* sock = nullptr;
  std::string failure;
  std::thread t([&] {
    try {
      if (auto why = enter(); !why.empty()) {
        failure = why;
        return;
      }
      sock = connect_here();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  t.join();
  if (!failure.empty()) throw fault_error(failure);
  return sock;
}

}  // namespace

netlink_error::netlink_error(int error, std::string kernel_message, const std::string& what)
    : fault_error(fmt::format("network: {} failed: {}{}", what, std::strerror(error),
                              kernel_message.empty() ? "" : " (kernel: " + kernel_message + ")")),
      error_(error),
      kernel_message_(std::move(kernel_message)) {}

void nl_msg_free::operator()(nl_msg* msg) const { nlmsg_free(msg); }

std::string netns_phrase(const std::string& netns) { return netns.empty() ? "" : " in netns " + netns; }

route_socket::route_socket(const std::string& netns) : netns_(netns) {
  if (netns.empty()) {
    sock_ = connect_here();
    return;
  }
  auto path = "/run/netns/" + netns;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw fault_error(fmt::format("network: network namespace '{}' not found ({}: {}); create it with `ip netns add {}` or fix "
                                  "'netns'", netns, path, std::strerror(errno), netns));
  try {
    sock_ = connect_in_thread([&]() -> std::string {
      if (::setns(fd, CLONE_NEWNET) != 0)
        return fmt::format("network: cannot enter network namespace '{}': {} (faultline needs CAP_SYS_ADMIN; run it as root)", netns,
                           std::strerror(errno));
      return {};
    });
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

route_socket route_socket::scratch_namespace() {
  auto* sock = connect_in_thread([]() -> std::string {
    if (::unshare(CLONE_NEWNET) != 0)
      return fmt::format("network: cannot create a scratch network namespace: {} (faultline needs CAP_SYS_ADMIN and "
                         "CAP_NET_ADMIN for network faults; run it as root)", std::strerror(errno));
    return {};
  });
  return route_socket(sock, "(scratch)");
}

route_socket::route_socket(route_socket&& other) noexcept : sock_(other.sock_), netns_(std::move(other.netns_)) {
  other.sock_ = nullptr;
}

route_socket::~route_socket() {
  if (sock_) nl_socket_free(sock_);
}

void route_socket::request(nl_msg* msg, const std::string& what) {
  nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (int rc = nl_send_auto(sock_, msg); rc < 0) throw netlink_error(EIO, nl_geterror(rc), what);
  answer a;
  receive(sock_, a, what);
}

std::vector<raw_message> route_socket::dump(int type, const void* header, std::size_t header_size) {
  message_ptr msg(nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP));
  if (!msg || nlmsg_append(msg.get(), const_cast<void*>(header), header_size, NLMSG_ALIGNTO) < 0)
    throw fault_error("network: out of memory for a netlink dump request");
  if (int rc = nl_send_auto(sock_, msg.get()); rc < 0) throw netlink_error(EIO, nl_geterror(rc), "a netlink dump");
  std::vector<raw_message> out;
  answer a;
  a.dump = &out;
  receive(sock_, a, "a netlink dump");
  return out;
}

int route_socket::ifindex(const std::string& device) {
  rtnl_link* link = nullptr;
  int rc = rtnl_link_get_kernel(sock_, 0, device.c_str(), &link);
  if (rc < 0 || !link) return 0;
  int index = rtnl_link_get_ifindex(link);
  rtnl_link_put(link);
  return index;
}

}  // namespace faultline::faults::network
