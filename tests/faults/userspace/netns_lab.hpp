#pragma once
// Two network namespaces joined by a veth pair, created for one test or benchmark and removed by
// name when it ends (even on failure): client side "a" (10.200.1.1) and server side "b"
// (10.200.1.2). Plus small blocking TCP/UDP helpers that run inside a namespace.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace faultline::test {

class netns_lab {
public:
  // `tag` makes the names unique and recognisable: fl-<tag>-<pid>-<n>-a / -b, veths fl<n><pid>a/b.
  explicit netns_lab(const std::string& tag);
  netns_lab(const netns_lab&) = delete;
  netns_lab& operator=(const netns_lab&) = delete;
  ~netns_lab();

  const std::string& client_ns() const { return client_ns_; }
  const std::string& server_ns() const { return server_ns_; }
  const std::string& client_dev() const { return client_dev_; }
  const std::string& server_dev() const { return server_dev_; }
  static constexpr const char* client_ip = "10.200.1.1";
  static constexpr const char* server_ip = "10.200.1.2";

private:
  std::string client_ns_, server_ns_, client_dev_, server_dev_;
};

// Why namespace tests cannot run here (not root, no `ip`), or empty.
std::string netns_unavailable_reason();

// Runs an `ip` command (argument vector, no shell); throws std::runtime_error with its output.
void ip(const std::vector<std::string>& args);

// `iptables-save`, `ip6tables-save` (without their '#' lines) and `nft list ruleset` of a
// namespace ("" for the host's), as one text: equal before and after a clean revert.
std::string ruleset(const std::string& netns);

// The egress qdiscs of a device as `tc qdisc show` prints them.
std::string qdiscs(const std::string& netns, const std::string& device);

// A TCP echo server (and a UDP counter) on the server namespace's address, served by a thread.
class echo_server {
public:
  echo_server(const std::string& netns, std::vector<std::uint16_t> tcp_ports, std::uint16_t udp_port = 0);
  ~echo_server();
  std::uint64_t udp_received() const;
  // Sequence numbers (first 4 bytes, network order) of the UDP datagrams, in arrival order.
  std::vector<std::uint32_t> udp_sequence() const;
  void reset_udp();

private:
  struct state;
  state* state_;
};

struct tcp_timing {
  std::vector<double> connect_ms;
  std::vector<double> rtt_ms;  // one-byte request -> one-byte answer
};

// From inside `netns`: `connections` connects to host:port, each followed by `requests` echo
// round trips. Throws std::runtime_error when a connect or request fails.
tcp_timing measure_tcp(const std::string& netns, const std::string& host, std::uint16_t port, int connections, int requests);

// From inside `netns`: `count` UDP datagrams of `size` bytes to host:port at `rate` per second,
// each starting with its sequence number.
void send_udp(const std::string& netns, const std::string& host, std::uint16_t port, int count, double rate, std::size_t size = 64);

double median(std::vector<double> v);

}  // namespace faultline::test
