#pragma once
// The netlink messages that install a network fault as netem: built with libnl-route objects, plus
// the netem attributes libnl does not know (64-bit delays, Gilbert-Elliott loss, rate). Pure: no
// socket, so tests inspect every attribute without a kernel.

#include "faults/netem/network_spec.hpp"
#include "faults/netem/route_socket.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace faultline::faults::network {

// netem's probabilities and correlations: 0..1 scaled to 0..UINT32_MAX, rounded as tc rounds.
std::uint32_t netem_probability(double p);

// Unscoped: netem is the root qdisc. Scoped: a prio root whose band 1 (class <prio>:1) holds netem
// and takes only what the u32 filters send it; the other three bands carry everything else in
// pfifo_fast's order (priomap shifted by one band), so unmatched traffic is not delayed.
struct netem_layout {
  bool scoped = false;
  std::uint32_t root_handle = 0;   // netem (unscoped) or prio (scoped), "major:0"
  std::uint32_t netem_handle = 0;  // == root_handle when unscoped
  std::uint32_t netem_parent = 0;  // TC_H_ROOT, or the prio class <major>:1
};

inline constexpr int scoped_bands = 4;
inline constexpr std::array<std::uint8_t, 16> scoped_priomap = {2, 3, 3, 3, 2, 3, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2};
inline constexpr std::uint32_t first_faultline_major = 0xfa17;  // then fa18, ...: never a handle in use

// Chooses handles whose majors are not in `taken`.
netem_layout plan_layout(const network_spec& spec, const std::vector<std::uint32_t>& taken_majors);

// RTM_NEWQDISC netem (NLM_F_CREATE | flags). `distribution` empty: uniform jitter.
message_ptr build_netem_qdisc(const network_spec& spec, int ifindex, std::uint32_t parent, std::uint32_t handle,
                              std::span<const std::int16_t> distribution, int flags);
// RTM_NEWQDISC prio (NLM_F_CREATE | flags) with scoped_bands and scoped_priomap.
message_ptr build_prio_qdisc(int ifindex, std::uint32_t handle, int flags);
// One RTM_NEWTFILTER u32 per scope rule, steering matches to `classid`. IPv4 at preference 1,
// IPv6 at preference 2. Port matches require a 20-byte IPv4 header (no options) or an IPv6 header
// directly followed by TCP/UDP; other packets are left alone.
std::vector<message_ptr> build_scope_filters(const network_spec& spec, int ifindex, std::uint32_t prio_handle,
                                             std::uint32_t classid);

// The requests that install the fault, in order, each with a description for errors.
struct install_step {
  message_ptr message;
  std::string what;
};
std::vector<install_step> build_install(const network_spec& spec, int ifindex, const netem_layout& layout,
                                        std::span<const std::int16_t> distribution);

// RTM_DELQDISC of the root qdisc with this handle.
message_ptr build_delete_root(int ifindex, std::uint32_t handle);

// "fa17:", "1:10", "root", "ingress".
std::string handle_text(std::uint32_t handle);

}  // namespace faultline::faults::network
