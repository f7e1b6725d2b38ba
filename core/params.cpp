#include "core/params.hpp"

#include "core/limits.hpp"
#include "core/units.hpp"

#include <fmt/format.h>

#include <algorithm>

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

namespace {

std::optional<double> kind_limit(param_kind kind) {
  switch (kind) {
    case param_kind::duration: return std::chrono::duration<double, std::nano>(limits::longest_duration).count();
    case param_kind::integer: return static_cast<double>(limits::largest_count);
    case param_kind::fraction: return 1.0;
    case param_kind::rate: return limits::highest_rate;
    case param_kind::size: return static_cast<double>(limits::largest_size);
    case param_kind::bandwidth: return limits::highest_bandwidth;
    default: return std::nullopt;  // number: only its own bounds; the rest are not numbers
  }
}

std::string format_bound(param_kind kind, double value) {
  switch (kind) {
    case param_kind::duration: return format_duration(std::chrono::nanoseconds(static_cast<std::int64_t>(value)));
    case param_kind::fraction: return format_fraction(value);
    case param_kind::rate: return format_rate(value);
    case param_kind::size: return format_size(static_cast<std::int64_t>(value));
    case param_kind::bandwidth: return format_bandwidth(value);
    case param_kind::integer: return fmt::format("{}", static_cast<std::int64_t>(value));
    default: return fmt::format("{:g}", value);
  }
}

}  // namespace

std::optional<double> lowest_allowed(const param_spec& spec) {
  if (spec.min) return spec.min;
  if (kind_limit(spec.kind) && spec.kind != param_kind::integer) return 0.0;  // units are never negative
  return std::nullopt;
}

std::optional<double> highest_allowed(const param_spec& spec) {
  auto limit = kind_limit(spec.kind);
  if (spec.max && limit) return std::min(*spec.max, *limit);
  return spec.max ? spec.max : limit;
}

std::optional<double> canonical_value(const param_value& v) {
  if (auto* d = std::get_if<std::chrono::nanoseconds>(&v)) return static_cast<double>(d->count());
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (auto* x = std::get_if<double>(&v)) return *x;
  return std::nullopt;
}

std::optional<std::string> out_of_range(const param_spec& spec, const param_value& value) {
  auto c = canonical_value(value);
  if (!c) return std::nullopt;
  if (auto low = lowest_allowed(spec); low && !(*c >= *low))
    return fmt::format("{} must be at least {}", spec.name, format_bound(spec.kind, *low));
  if (auto high = highest_allowed(spec); high && !(*c <= *high))
    return fmt::format("{} must be at most {}", spec.name, format_bound(spec.kind, *high));
  return std::nullopt;
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
