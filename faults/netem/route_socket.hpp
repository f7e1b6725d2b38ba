#pragma once
// A NETLINK_ROUTE socket (libnl) opened inside a chosen network namespace, with requests that
// report the kernel's own error text (extended ack), and raw dumps for exact record and replay.

#include "faults/fault.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct nl_sock;
struct nl_msg;

namespace faultline::faults::network {

// A netlink request the kernel refused.
class netlink_error : public fault_error {
public:
  netlink_error(int error, std::string kernel_message, const std::string& what);
  int error() const noexcept { return error_; }  // positive errno (ENOENT, EEXIST, ...)
  const std::string& kernel_message() const noexcept { return kernel_message_; }

private:
  int error_;
  std::string kernel_message_;
};

struct nl_msg_free {
  void operator()(nl_msg* msg) const;
};
using message_ptr = std::unique_ptr<nl_msg, nl_msg_free>;

// One raw netlink message as the kernel sent it (header included).
using raw_message = std::vector<std::uint8_t>;

class route_socket {
public:
  // In the namespace /run/netns/<netns>, or faultline's own when empty. Throws fault_error.
  explicit route_socket(const std::string& netns = {});
  // In a new, empty network namespace that lives as long as this socket (for capability probes).
  static route_socket scratch_namespace();

  route_socket(route_socket&&) noexcept;
  route_socket& operator=(route_socket&&) = delete;
  ~route_socket();

  nl_sock* get() const { return sock_; }
  const std::string& netns() const { return netns_; }

  // Sends with NLM_F_ACK and waits for the answer; throws netlink_error naming `what`.
  void request(nl_msg* msg, const std::string& what);
  // Sends a dump request (message type, family header) and returns every answer.
  std::vector<raw_message> dump(int type, const void* header, std::size_t header_size);

  // The index of a device in this namespace, 0 when there is none by that name.
  int ifindex(const std::string& device);

private:
  route_socket(nl_sock* sock, std::string netns) : sock_(sock), netns_(std::move(netns)) {}
  nl_sock* sock_ = nullptr;
  std::string netns_;
};

// "in netns a" or "" — for messages.
std::string netns_phrase(const std::string& netns);

}  // namespace faultline::faults::network
