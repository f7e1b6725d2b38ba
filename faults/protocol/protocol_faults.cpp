#include "faults/protocol/protocol_faults.hpp"

#include "faults/protocol/http/http_session.hpp"
#include "faults/protocol/http/http_toxics.hpp"
#include "faults/protocol/postgres/pg_session.hpp"
#include "faults/protocol/postgres/pg_toxics.hpp"
#include "faults/protocol/redis/redis_flush.hpp"
#include "faults/protocol/redis/redis_session.hpp"
#include "faults/protocol/redis/redis_toxics.hpp"
#include "faults/proxy/protocol.hpp"
#include "faults/proxy/toxic_registry.hpp"

namespace faultline::protocol {

void register_protocols(proxy::protocol_registry& registry) {
  registry.add(std::make_shared<postgres::postgres_protocol>());
  registry.add(std::make_shared<redis::redis_protocol>());
  registry.add(std::make_shared<http::http_protocol>());
}

void register_message_toxics(proxy::toxic_registry& registry) {
  for (const auto* type : {&postgres::pg_delay_toxic::type_descriptor(), &postgres::pg_error_toxic::type_descriptor(),
                           &postgres::pg_drop_toxic::type_descriptor(), &postgres::pg_refuse_toxic::type_descriptor(),
                           &redis::redis_delay_toxic::type_descriptor(), &redis::redis_error_toxic::type_descriptor(),
                           &redis::redis_miss_toxic::type_descriptor(), &redis::redis_outage_toxic::type_descriptor(),
                           &http::http_abort_toxic::type_descriptor(), &http::http_delay_toxic::type_descriptor(),
                           &http::http_reset_toxic::type_descriptor(), &http::http_rate_limit_toxic::type_descriptor(),
                           &http::grpc_abort_toxic::type_descriptor(), &http::grpc_delay_toxic::type_descriptor()})
    registry.add(*type);
}

std::vector<faults::fault_type> protocol_fault_types() { return {redis::redis_flush_type()}; }

}  // namespace faultline::protocol
