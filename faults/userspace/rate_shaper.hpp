#pragma once
// Rate limiting for the userspace engine, on the device's egress through libnl: a tbf root qdisc,
// or for a scoped fault an htb root whose one rate-limited class takes only what the scope's u32
// filters (the netem engine's) send it, everything else leaving unshaped through htb's direct
// queue. The device's qdisc tree is recorded first (netem's qdisc_tree) and put back exactly.

#include "faults/netem/network_spec.hpp"
#include "faults/netem/qdisc_tree.hpp"
#include "faults/netem/route_socket.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace faultline::faults::userspace {

struct shaper_settings {
  std::uint32_t root_handle = 0;  // "major:0" of the tbf or htb root
  bool scoped = false;            // htb + u32 (scoped), or tbf
  std::uint32_t burst = 0;        // bytes
  std::uint32_t queue_bytes = 0;  // tbf limit
  std::uint32_t mtu = 0;
};

// Bucket and queue sizes for a rate on a device with this MTU: a burst of 1 ms of traffic (at least
// two full frames) and room for `limit` full frames queued.
shaper_settings plan_shaper(const network::network_spec& spec, std::uint32_t mtu, const std::vector<std::uint32_t>& taken_majors);

class rate_shaper {
public:
  explicit rate_shaper(std::shared_ptr<const network::network_spec> spec);

  // Reads the device's tree (once) and plans the handles; the undo record. Throws fault_error.
  nlohmann::json record();
  void apply();   // throws fault_error, putting the tree back when it changed part of it
  void remove();  // restores the recorded tree exactly; idempotent
  nlohmann::json evidence() const;

  // Restores the tree of a record after a killed run (if the root is still faultline's).
  static void undo(const nlohmann::json& record);

private:
  std::shared_ptr<const network::network_spec> spec_;
  mutable std::optional<network::route_socket> sock_;
  int ifindex_ = 0;
  std::optional<network::qdisc_tree> before_;
  shaper_settings settings_;
  std::optional<network::qdisc_stats> final_stats_;
  bool applied_ = false;
  bool removed_ = false;
};

}  // namespace faultline::faults::userspace
