#pragma once
// Protocol-aware faults: the proxy's `postgres` and `redis` protocol modes and their
// message-level toxics (pg_delay, pg_error, pg_drop, pg_refuse; redis_delay, redis_error,
// redis_miss, redis_outage) and the redis_flush action. Each function below is called from the
// one place its kind of thing is registered.

#include "faults/fault.hpp"

#include <vector>

namespace faultline::proxy {
class protocol_registry;
class toxic_registry;
}  // namespace faultline::proxy

namespace faultline::protocol {

void register_protocols(proxy::protocol_registry& registry);       // from register_builtin_protocols
void register_message_toxics(proxy::toxic_registry& registry);     // from register_builtin_toxics
// The types that are not toxics (redis_flush); the toxics' fault types come from their
// descriptors. From register_builtin_faults.
std::vector<faults::fault_type> protocol_fault_types();

}  // namespace faultline::protocol
