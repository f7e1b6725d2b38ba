#include "faults/proxy/protocol.hpp"

#include "faults/protocol/protocol_faults.hpp"

#include <stdexcept>

namespace faultline::proxy {
namespace {

class passthrough_session final : public session {
public:
  void on_data(direction d, chunk c, session_io& io) override { io.forward(d, std::move(c)); }
  bool forwards_untouched() const override { return true; }
};

}  // namespace

std::unique_ptr<session> tcp_protocol::open_session() const { return std::make_unique<passthrough_session>(); }

void protocol_registry::add(std::shared_ptr<const protocol> p) {
  std::string name(p->name());
  if (!protocols_.emplace(name, std::move(p)).second) throw std::logic_error("proxy protocol '" + name + "' is registered twice");
}

std::shared_ptr<const protocol> protocol_registry::find(std::string_view name) const {
  auto it = protocols_.find(name);
  return it == protocols_.end() ? nullptr : it->second;
}

std::vector<std::string> protocol_registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, p] : protocols_) out.push_back(name);
  return out;
}

void register_builtin_protocols(protocol_registry& registry) {
  registry.add(std::make_shared<tcp_protocol>());
  faultline::protocol::register_protocols(registry);  // postgres, redis, http
}

}  // namespace faultline::proxy
