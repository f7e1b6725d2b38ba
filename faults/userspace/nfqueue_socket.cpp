#include "faults/userspace/nfqueue_socket.hpp"

#include <fmt/format.h>
#include <libmnl/libmnl.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <poll.h>
#include <sys/socket.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include <cerrno>
#include <cstring>

namespace faultline::faults::userspace {
namespace {

constexpr std::size_t verdict_buffer_size = 256 * 1024;
constexpr std::uint32_t whole_packet_range = 0xffff;

std::size_t verdict_size(std::size_t replacement) {
  std::size_t n = MNL_ALIGN(sizeof(nlmsghdr)) + MNL_ALIGN(sizeof(nfgenmsg)) + MNL_ALIGN(sizeof(nlattr) + sizeof(nfqnl_msg_verdict_hdr));
  if (replacement) n += MNL_ALIGN(sizeof(nlattr) + replacement);
  return n;
}

}  // namespace

nfqueue_socket::nfqueue_socket(const queue_config& config)
    : config_(config),
      receive_buffer_(config.whole_packet ? whole_packet_range + 8192 : 16384),
      verdicts_(verdict_buffer_size) {
  socket_ = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (!socket_)
    throw fault_error(fmt::format("network: cannot open a netfilter netlink socket: {} (the userspace engine needs CAP_NET_ADMIN: "
                                  "run faultline as root)", std::strerror(errno)));
  try {
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0)
      throw fault_error(fmt::format("network: cannot bind a netfilter netlink socket: {}", std::strerror(errno)));
    port_id_ = mnl_socket_get_portid(socket_);
    int size = config.receive_buffer;
    if (::setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
      ::setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    int one = 1;
    mnl_socket_setsockopt(socket_, NETLINK_EXT_ACK, &one, sizeof one);

    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    auto* nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, config.number);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    request(buf.data(), fmt::format("binding NFQUEUE queue {}", config.number));
    bound_ = true;

    nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, config.number);
    nfq_nlmsg_cfg_put_params(nlh, config.whole_packet ? NFQNL_COPY_PACKET : NFQNL_COPY_META,
                             config.whole_packet ? whole_packet_range : 0);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, config.max_length);
    const std::uint32_t flags = config.gso ? NFQA_CFG_F_GSO : 0;
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
    request(buf.data(), fmt::format("configuring NFQUEUE queue {}", config.number));
  } catch (...) {
    mnl_socket_close(socket_);
    throw;
  }
}

nfqueue_socket::~nfqueue_socket() {
  if (socket_) mnl_socket_close(socket_);
}

int nfqueue_socket::fd() const { return mnl_socket_get_fd(socket_); }

void nfqueue_socket::request(char* message, const std::string& what) {
  auto* nlh = reinterpret_cast<nlmsghdr*>(message);
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = ++sequence_;
  if (mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len) < 0)
    throw fault_error(fmt::format("network: {} failed: {}", what, std::strerror(errno)));
  // Wait for the answer to this request; packet messages that arrive meanwhile are skipped (only
  // unbind runs while packets may still come, and the kernel drops those itself).
  std::vector<char> answer(MNL_SOCKET_BUFFER_SIZE + receive_buffer_.size());
  for (int attempt = 0; attempt < 1000; ++attempt) {
    pollfd p{fd(), POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) throw fault_error(fmt::format("network: {}: the kernel did not answer", what));
    auto n = ::recv(fd(), answer.data(), answer.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) continue;
      throw fault_error(fmt::format("network: {} failed: {}", what, std::strerror(errno)));
    }
    int rc = mnl_cb_run(answer.data(), static_cast<std::size_t>(n), sequence_, port_id_, nullptr, nullptr);
    if (rc == MNL_CB_STOP) return;
    if (rc < 0) {
      if (errno == ESRCH || errno == EPROTO) continue;  // not our answer (a packet message)
      if (errno == EBUSY)
        throw queue_busy_error(fmt::format("network: NFQUEUE queue {} is bound by another program", config_.number));
      throw fault_error(fmt::format("network: {} failed: {}{}", what, std::strerror(errno),
                                    errno == EPERM ? " (the userspace engine needs CAP_NET_ADMIN: run faultline as root)" : ""));
    }
  }
  throw fault_error(fmt::format("network: {}: no answer among the kernel's messages", what));
}

bool nfqueue_socket::receive(std::vector<queued_packet>& out) {
  auto n = ::recv(fd(), receive_buffer_.data(), receive_buffer_.size(), MSG_DONTWAIT);
  if (n < 0) {
    if (errno == ENOBUFS) {
      ++counters_.receive_overruns;
      return true;
    }
    return false;  // EAGAIN, or the socket is going away
  }
  auto len = static_cast<int>(n);
  auto* nlh = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data());
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    if (nlh->nlmsg_type == NLMSG_ERROR) {
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0) ++counters_.verdict_errors;
      continue;
    }
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_QUEUE || NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET) continue;
    nlattr* attr[NFQA_MAX + 1] = {};
    if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) continue;
    const auto* header = static_cast<const nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
    queued_packet p;
    p.id = ntohl(header->packet_id);
    if (attr[NFQA_PAYLOAD]) {
      p.payload = {static_cast<const std::uint8_t*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD])), mnl_attr_get_payload_len(attr[NFQA_PAYLOAD])};
    }
    p.length = attr[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : static_cast<std::uint32_t>(p.payload.size());
    out.push_back(p);
  }
  return true;
}

char* nfqueue_socket::room(std::size_t bytes) {
  if (verdicts_used_ + bytes > verdicts_.size()) flush();
  return verdicts_.data() + verdicts_used_;
}

void nfqueue_socket::add_verdict(std::uint32_t id, std::uint32_t verdict, std::span<const std::uint8_t> replacement) {
  auto* nlh = nfq_nlmsg_put(room(verdict_size(replacement.size())), NFQNL_MSG_VERDICT, config_.number);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), static_cast<int>(verdict));
  if (!replacement.empty()) nfq_nlmsg_verdict_put_pkt(nlh, replacement.data(), static_cast<std::uint32_t>(replacement.size()));
  verdicts_used_ += MNL_ALIGN(nlh->nlmsg_len);
  ++verdicts_pending_;
}

void nfqueue_socket::add_accept_up_to(std::uint32_t id) {
  auto* nlh = nfq_nlmsg_put(room(verdict_size(0)), NFQNL_MSG_VERDICT_BATCH, config_.number);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), NF_ACCEPT);
  verdicts_used_ += MNL_ALIGN(nlh->nlmsg_len);
  ++verdicts_pending_;
}

std::size_t nfqueue_socket::flush() {
  if (verdicts_used_ == 0) return 0;
  if (mnl_socket_sendto(socket_, verdicts_.data(), verdicts_used_) < 0) ++counters_.verdict_errors;
  ++counters_.verdict_datagrams;
  const auto sent = verdicts_pending_;
  verdicts_used_ = 0;
  verdicts_pending_ = 0;
  return sent;
}

void nfqueue_socket::unbind() {
  if (!bound_) return;
  flush();
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  auto* nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, config_.number);
  nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
  bound_ = false;
  request(buf.data(), fmt::format("unbinding NFQUEUE queue {}", config_.number));
}

}  // namespace faultline::faults::userspace
