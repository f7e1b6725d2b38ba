#include "faults/proxy/toxic_registry.hpp"

#include "faults/protocol/protocol_faults.hpp"
#include "faults/proxy/bandwidth.hpp"
#include "faults/proxy/blackhole.hpp"
#include "faults/proxy/latency.hpp"
#include "faults/proxy/limit_data.hpp"
#include "faults/proxy/noop.hpp"
#include "faults/proxy/reset_peer.hpp"
#include "faults/proxy/slicer.hpp"
#include "faults/proxy/slow_close.hpp"
#include "faults/proxy/timeout.hpp"

#include <stdexcept>

namespace faultline::proxy {

void toxic_registry::add(const toxic_descriptor& type) {
  type.check();
  if (!types_.emplace(type.name, &type).second) throw std::logic_error("toxic type '" + type.name + "' is registered twice");
}

const toxic_descriptor* toxic_registry::find(std::string_view type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : it->second;
}

std::vector<std::string> toxic_registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, type] : types_) out.push_back(name);
  return out;
}

void register_builtin_toxics(toxic_registry& registry) {
  for (const auto* type : {&latency_toxic::type_descriptor(), &bandwidth_toxic::type_descriptor(), &slow_close_toxic::type_descriptor(),
                           &timeout_toxic::type_descriptor(), &reset_peer_toxic::type_descriptor(), &slicer_toxic::type_descriptor(),
                           &limit_data_toxic::type_descriptor(), &blackhole_toxic::type_descriptor(), &noop_toxic::type_descriptor()})
    registry.add(*type);
  faultline::protocol::register_message_toxics(registry);  // pg_*, redis_*
}

}  // namespace faultline::proxy
