#include "probes/params.hpp"

namespace faultline {

const char* to_string(param_kind kind) {
  switch (kind) {
    case param_kind::duration: return "duration";
    case param_kind::integer: return "integer";
    case param_kind::number: return "number";
    case param_kind::fraction: return "fraction";
    case param_kind::rate: return "rate";
    case param_kind::size: return "size";
    case param_kind::bandwidth: return "bandwidth";
    case param_kind::text: return "text";
    case param_kind::flag: return "flag";
    case param_kind::choice: return "choice";
    case param_kind::address: return "address";
    case param_kind::text_list: return "list";
    case param_kind::text_map: return "map";
  }
  return "text";
}

double params::number(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) {
    if (auto* d = std::get_if<double>(&it->second)) return *d;
    if (auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*i);
  }
  return get<double>(name);
}

}  // namespace faultline
