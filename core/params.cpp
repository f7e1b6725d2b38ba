#include "core/params.hpp"

#include "core/units.hpp"

#include <fmt/format.h>

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
    case param_kind::host_port: return "address";
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

std::string format_param(param_kind kind, const param_value& value) {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return kind == param_kind::size ? format_size(v) : fmt::format("{}", v);
        } else if constexpr (std::is_same_v<T, double>) {
          switch (kind) {
            case param_kind::fraction: return format_fraction(v);
            case param_kind::rate: return format_rate(v);
            case param_kind::bandwidth: return format_bandwidth(v);
            default: return fmt::format("{:g}", v);
          }
        } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
          return format_duration(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::string out = "[";
          for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
          return out + "]";
        } else {
          std::string out = "{";
          bool first = true;
          for (const auto& [k, x] : v) {
            out += fmt::format("{}{}: {}", first ? "" : ", ", k, x);
            first = false;
          }
          return out + "}";
        }
      },
      value);
}

std::string format_params(const param_schema& schema, const params& values) {
  std::string out;
  for (const auto& spec : schema) {
    auto it = values.values().find(spec.name);
    if (it == values.values().end()) continue;
    if (spec.default_value && *spec.default_value == it->second) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", spec.name, format_param(spec.kind, it->second));
  }
  return out;
}

}  // namespace faultline
