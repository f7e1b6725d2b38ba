#pragma once
// The Linux capabilities this process holds (its effective set), so that a fault needing a
// privilege (CAP_NET_ADMIN for traffic control) says so before a run starts, not half-way.

#include <string>
#include <string_view>

namespace faultline {

// True when the effective set holds the capability named as the kernel documents it
// ("CAP_NET_ADMIN"). Throws std::invalid_argument for a name it does not know.
bool has_capability(std::string_view name);

// Who this process runs as, for messages: "root", or "user nobody (uid 65534)".
std::string process_identity();

}  // namespace faultline
