#pragma once
// Typed parameters shared by probes, load and faults: each component declares a schema
// (param_spec), the experiment loader and the control API parse against it, the component reads
// typed values, and format_param() writes them back.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace faultline {

// How a parameter is written in YAML and what type it becomes.
enum class param_kind {
  duration,   // "250ms", "1.5s", "2m"            -> std::chrono::nanoseconds
  integer,    // "42"                              -> std::int64_t
  number,     // "0.5"                             -> double
  fraction,   // "10%" or "0.1"                    -> double in 0..1
  rate,       // "200/s", "12k/min"                -> double per second
  size,       // "64KiB", "10MB", "512"            -> std::int64_t bytes
  bandwidth,  // "10MB/s", "100Mbit/s"             -> double bytes per second
  text,       // any string                        -> std::string
  flag,       // true / false                      -> bool
  choice,     // one of param_spec::choices        -> std::string
  host_port,  // "127.0.0.1:5432", "[::1]:6379"    -> std::string (validated host:port)
  text_list,  // [a, b] or "a"                     -> std::vector<std::string>
  text_map,   // {k: v}                            -> std::map<std::string, std::string>
};

const char* to_string(param_kind kind);

using param_value = std::variant<bool, std::int64_t, double, std::chrono::nanoseconds, std::string,
                                 std::vector<std::string>, std::map<std::string, std::string>>;

// One declared parameter. Names may contain one dot ("expect.status") for a nested mapping.
struct param_spec {
  std::string name;
  param_kind kind = param_kind::text;
  std::string help;
  std::optional<param_value> default_value;  // none and !required: the parameter is optional
  bool required = false;
  std::optional<double> min;                 // bounds in the canonical unit (ns, bytes, 1/s, ...)
  std::optional<double> max;
  std::vector<std::string> choices;          // for param_kind::choice
};

using param_schema = std::vector<param_spec>;

// Thrown by a component that rejects a combination of otherwise valid parameters;
// the loader reports it at the position of `param`.
class param_error : public std::runtime_error {
public:
  param_error(std::string param, const std::string& message)
      : std::runtime_error(message), param_(std::move(param)) {}
  const std::string& param() const noexcept { return param_; }

private:
  std::string param_;
};

// The parsed values of one component's parameters, defaults filled in.
class params {
public:
  params() = default;
  void set(std::string name, param_value value) { values_[std::move(name)] = std::move(value); }
  bool has(const std::string& name) const { return values_.contains(name); }
  const std::map<std::string, param_value>& values() const { return values_; }

  std::chrono::nanoseconds duration(const std::string& name) const { return get<std::chrono::nanoseconds>(name); }
  std::int64_t integer(const std::string& name) const { return get<std::int64_t>(name); }
  double number(const std::string& name) const;  // accepts integer values too
  const std::string& text(const std::string& name) const { return get<std::string>(name); }
  bool flag(const std::string& name) const { return get<bool>(name); }
  const std::vector<std::string>& list(const std::string& name) const { return get<std::vector<std::string>>(name); }
  const std::map<std::string, std::string>& map(const std::string& name) const {
    return get<std::map<std::string, std::string>>(name);
  }

  template <typename T>
  const T& get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw param_error(name, "parameter '" + name + "' is not set");
    if (auto* v = std::get_if<T>(&it->second)) return *v;
    throw param_error(name, "parameter '" + name + "' has another type");
  }

  template <typename T>
  std::optional<T> maybe(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    if (auto* v = std::get_if<T>(&it->second)) return *v;
    return std::nullopt;
  }

private:
  std::map<std::string, param_value> values_;
};

// The range a parameter's value must lie in, in its canonical unit: the spec's own bounds, and
// above them, for numeric kinds, the limit of the kind (core/limits.hpp). Absent: no bound.
std::optional<double> lowest_allowed(const param_spec& spec);
std::optional<double> highest_allowed(const param_spec& spec);
// The value in its canonical unit (ns, bytes, 1/s, ...) for a numeric value; nullopt otherwise.
std::optional<double> canonical_value(const param_value& value);
// "rate must be at most 1M/s" when `value` lies outside the parameter's range; nullopt inside it.
std::optional<std::string> out_of_range(const param_spec& spec, const param_value& value);

// Writes a value back the way people write it ("800ms", "10%", "64KiB"): it parses back to the
// same value.
std::string format_param(param_kind kind, const param_value& value);
// "latency 800ms, jitter 100ms" for the parameters that differ from their defaults.
std::string format_params(const param_schema& schema, const params& values);

}  // namespace faultline
