#include "engine/param_format.hpp"

#include "engine/units.hpp"

#include <fmt/format.h>

namespace faultline::engine {

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

}  // namespace faultline::engine
