#include "faults/protocol/protocol_faults.hpp"

#include "faults/protocol/postgres/pg_fault_types.hpp"
#include "faults/protocol/postgres/pg_session.hpp"
#include "faults/protocol/postgres/pg_toxics.hpp"
#include "faults/protocol/redis/redis_fault_types.hpp"
#include "faults/protocol/redis/redis_session.hpp"
#include "faults/protocol/redis/redis_toxics.hpp"
#include "faults/proxy/protocol.hpp"
#include "faults/proxy/toxic_registry.hpp"

namespace faultline::protocol {

void register_protocols(proxy::protocol_registry& registry) {
  registry.add(std::make_shared<postgres::postgres_protocol>());
  registry.add(std::make_shared<redis::redis_protocol>());
}

void register_message_toxics(proxy::toxic_registry& registry) {
  postgres::register_postgres_toxics(registry);
  redis::register_redis_toxics(registry);
}

std::vector<faults::fault_type> protocol_fault_types() {
  auto out = postgres::postgres_fault_types();
  for (auto& t : redis::redis_fault_types()) out.push_back(std::move(t));
  return out;
}

}  // namespace faultline::protocol
