#include "faults/fault.hpp"

#include <stdexcept>

namespace faultline::faults {

const char* to_string(target_kind kind) {
  switch (kind) {
    case target_kind::none: return "none";
    case target_kind::proxy: return "proxy";
    case target_kind::address: return "address";
    case target_kind::device: return "device";
    case target_kind::process: return "process";
  }
  return "none";
}

void fault_registry::add(fault_type type) {
  auto name = type.name;
  if (!types_.emplace(name, std::move(type)).second)
    throw std::logic_error("fault type '" + name + "' is registered twice");
}

const fault_type* fault_registry::find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> fault_registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, type] : types_) out.push_back(name);
  return out;
}

}  // namespace faultline::faults
