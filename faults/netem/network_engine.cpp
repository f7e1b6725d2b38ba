#include "faults/netem/network_engine.hpp"

#include <fmt/format.h>
#include <netlink/cache.h>
#include <netlink/route/route.h>

#include <linux/rtnetlink.h>
#include <sys/socket.h>

namespace faultline::faults::network {
namespace {

bool carries_default_route(route_socket& sock, int ifindex) {
  nl_cache* cache = nullptr;
  if (int rc = rtnl_route_alloc_cache(sock.get(), AF_UNSPEC, 0, &cache); rc < 0)
    throw fault_error(fmt::format("network: cannot read the routing table: {}", nl_geterror(rc)));
  bool found = false;
  for (auto* obj = nl_cache_get_first(cache); obj && !found; obj = nl_cache_get_next(obj)) {
    auto* route = reinterpret_cast<rtnl_route*>(obj);
    auto* dst = rtnl_route_get_dst(route);
    if (rtnl_route_get_type(route) != RTN_UNICAST || (dst && nl_addr_get_prefixlen(dst) != 0)) continue;
    for (int i = 0; i < rtnl_route_get_nnexthops(route) && !found; ++i)
      found = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, i)) == ifindex;
  }
  nl_cache_free(cache);
  return found;
}

}  // namespace

std::string device_label(const network_spec& spec) { return spec.device + netns_phrase(spec.netns); }

int checked_device(route_socket& sock, const network_spec& spec) {
  const int ifindex = sock.ifindex(spec.device);
  if (ifindex == 0)
    throw fault_error(fmt::format("network: device '{}' not found{} (see `ip link show`); fix the step's target{}", spec.device,
                                  netns_phrase(spec.netns), spec.netns.empty() ? " or set 'netns'" : ""));
  if (!spec.allow_default_route && carries_default_route(sock, ifindex))
    throw fault_error(fmt::format("network: {} carries the default route; a fault there can cut faultline (and you) off from the "
                                  "host. Target another device, scope the fault with 'hosts'/'ports' and set "
                                  "'allow_default_route: true' if you mean it",
                                  device_label(spec)));
  return ifindex;
}

}  // namespace faultline::faults::network
