#pragma once
// Toxic types by name: the descriptors the control API parses with and the experiment's fault
// types are derived from. register_builtin_toxics() is the one place the built-in types are
// registered, byte-level and protocol (the protocol module adds its own there).

#include "faults/proxy/toxic_descriptor.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::proxy {

class toxic_registry {
public:
  // The descriptor must outlive the registry (built-in ones are function-local statics).
  // Throws std::logic_error when the type is taken or the declaration breaks a rule
  // (toxic_descriptor::check).
  void add(const toxic_descriptor& type);
  const toxic_descriptor* find(std::string_view type) const;
  std::vector<std::string> names() const;
  const std::map<std::string, const toxic_descriptor*, std::less<>>& types() const { return types_; }

private:
  std::map<std::string, const toxic_descriptor*, std::less<>> types_;
};

void register_builtin_toxics(toxic_registry& registry);

}  // namespace faultline::proxy
