#pragma once
// The `network` fault's parameters, shared by every engine that can apply it (netem, userspace):
// the schema the loader parses, the validation of combinations, and the plain immutable spec.

#include "core/params.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::faults::network {

// A probability as the kernel and the userspace engine both use it: 0 never, 1 always.
struct chance {
  double value = 0;        // 0..1
  double correlation = 0;  // 0..1: how much the next decision depends on the last one
};

// Delay spread around the mean.
enum class delay_distribution { uniform, normal, pareto, paretonormal };
const char* to_string(delay_distribution d);

// Bursty loss (Gilbert-Elliott): two states with their own loss chance and the chances of moving
// between them per packet.
struct gilbert_elliott {
  double p = 0;          // good -> bad
  double r = 1;          // bad -> good
  double loss_bad = 1;   // loss chance in the bad state (netem's 1-h)
  double loss_good = 0;  // loss chance in the good state (netem's 1-k)
};

// An IPv4 or IPv6 network: address bytes in network order, and a prefix length.
struct ip_prefix {
  int family = 0;                      // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};  // the first 4 for IPv4
  int length = 0;                      // prefix length in bits
  std::string text;                    // as normalised for messages: "10.200.1.0/24", "10.200.1.2"
  bool contains(const ip_prefix& other) const;
};

// Throws std::invalid_argument with a message naming the fix.
ip_prefix parse_ip_prefix(std::string_view text);

enum class ip_protocol { all, tcp, udp, icmp };
const char* to_string(ip_protocol p);

// Which packets the fault affects. Empty hosts and ports: every packet leaving the device.
struct traffic_scope {
  std::vector<ip_prefix> hosts;       // matched as source OR destination
  std::vector<std::uint16_t> ports;   // matched as source OR destination port (TCP and UDP)
  ip_protocol protocol = ip_protocol::all;
  bool all_traffic() const { return hosts.empty() && ports.empty() && protocol == ip_protocol::all; }
};

// One conjunction of the scope: packets matching any rule are affected. Both engines apply the
// same rules (u32 filters for netem, firewall rules for userspace).
struct match_rule {
  int family = 0;                        // AF_INET or AF_INET6
  std::optional<ip_prefix> source;       // at most one of source and destination
  std::optional<ip_prefix> destination;
  std::optional<std::uint16_t> source_port;  // at most one of the two ports
  std::optional<std::uint16_t> destination_port;
  std::optional<std::uint8_t> protocol;  // IP protocol number (6, 17, 1, 58); none: any
};

// Expands hosts x directions x ports x directions x protocols into rules; empty when the scope
// is all traffic.
std::vector<match_rule> expand_scope(const traffic_scope& scope);

enum class engine_choice { netem, userspace, auto_select };
const char* to_string(engine_choice e);

struct network_spec {
  std::string device;  // the step's target
  std::string netns;   // named network namespace (/run/netns/<name>); empty: faultline's own

  std::chrono::nanoseconds delay{0};
  std::chrono::nanoseconds jitter{0};
  double delay_correlation = 0;
  delay_distribution distribution = delay_distribution::uniform;

  std::optional<chance> loss;                 // random loss
  std::optional<gilbert_elliott> loss_model;  // bursty loss; never both
  std::optional<chance> duplicate;
  std::optional<chance> corrupt;
  std::optional<chance> reorder;              // sent at once while the rest waits for `delay`
  std::uint32_t gap = 0;                      // reorder every gap-th packet (0: by chance only)
  std::optional<double> rate;                 // bytes per second
  std::uint32_t limit = 1000;                 // packets the emulator may hold
  bool keep_order = false;                    // jittered packets leave in arrival order (userspace engine)

  traffic_scope scope;
  engine_choice engine = engine_choice::netem;
  bool allow_default_route = false;

  // "delay 50ms jitter 5ms normal, loss 10%, to/from 10.200.1.2 port 7000": for logs and reports.
  std::string describe() const;
};

// The parameter schema of the `network` fault type.
param_schema network_params();

// Rejects combinations (reorder without delay, gap without reorder, ...); throws param_error.
void validate_network_params(const params& p);

// Validated params plus the step's target -> the spec. Throws param_error like the validator.
network_spec parse_network_spec(const params& p, const std::string& device);

// Largest number of (host, direction, port, protocol) combinations a scope may expand to.
inline constexpr std::size_t max_scope_rules = 256;

}  // namespace faultline::faults::network
