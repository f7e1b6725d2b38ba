#pragma once
// A netlink socket bound to one NFQUEUE queue (nfnetlink_queue, through libmnl and
// libnetfilter_queue's message helpers): packets arrive as messages; verdicts are collected and
// sent many to a datagram. The queue lives in the network namespace of the thread that opened it.

#include "faults/fault.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

struct mnl_socket;

namespace faultline::faults::userspace {

// The queue number is bound by another program (EBUSY): try the next one.
class queue_busy_error : public fault_error {
public:
  using fault_error::fault_error;
};

struct queue_config {
  std::uint16_t number = 0;
  bool whole_packet = false;      // NFQNL_COPY_PACKET (65535 bytes); else NFQNL_COPY_META, no payload
  bool gso = true;                // NFQA_CFG_F_GSO: GSO packets arrive whole, checksums maybe unfinished
  std::uint32_t max_length = 1000;  // packets the kernel holds for us; beyond that it drops
  int receive_buffer = 32 << 20;  // bytes (SO_RCVBUFFORCE)
};

struct queued_packet {
  std::uint32_t id = 0;
  std::uint32_t length = 0;                 // the packet's full length
  std::span<const std::uint8_t> payload;    // whole packet in whole_packet mode, else empty
};

class nfqueue_socket {
public:
  // Opens and binds the queue with `config`. Throws queue_busy_error or fault_error.
  explicit nfqueue_socket(const queue_config& config);
  nfqueue_socket(const nfqueue_socket&) = delete;
  nfqueue_socket& operator=(const nfqueue_socket&) = delete;
  ~nfqueue_socket();  // closing unbinds; the kernel drops what is still queued

  int fd() const;
  const queue_config& config() const { return config_; }

  // Reads one datagram without blocking and appends its packets to `out` (views into an internal
  // buffer, valid until the next receive). Returns false when there was nothing to read.
  bool receive(std::vector<queued_packet>& out);

  // Queues a verdict (NF_ACCEPT, NF_DROP), optionally with a replacement packet.
  void add_verdict(std::uint32_t id, std::uint32_t verdict, std::span<const std::uint8_t> replacement = {});
  // Accepts every queued packet with an id up to `id` (NFQNL_MSG_VERDICT_BATCH).
  void add_accept_up_to(std::uint32_t id);
  // Sends the collected verdicts in one datagram; returns how many.
  std::size_t flush();

  // Unbinds the queue now (the kernel drops packets still queued: give verdicts first).
  void unbind();

  struct counters {
    std::uint64_t verdict_errors = 0;  // the kernel refused a verdict (unknown id)
    std::uint64_t receive_overruns = 0;  // ENOBUFS: the socket buffer overflowed, packets lost
    std::uint64_t verdict_datagrams = 0;
  };
  const counters& stats() const { return counters_; }

private:
  void request(char* message, const std::string& what);
  char* room(std::size_t bytes);

  queue_config config_;
  mnl_socket* socket_ = nullptr;
  unsigned port_id_ = 0;
  unsigned sequence_ = 0;
  bool bound_ = false;
  std::vector<char> receive_buffer_;
  std::vector<char> verdicts_;
  std::size_t verdicts_used_ = 0;
  std::size_t verdicts_pending_ = 0;
  counters counters_;
};

}  // namespace faultline::faults::userspace
