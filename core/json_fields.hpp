#pragma once
// A struct's JSON form declared once: a table of {JSON name, member pointer} per struct, from
// which one generic writer and one generic reader work. Members may be strings, booleans,
// numbers, nlohmann::json, optionals (left out when empty; missing or null read as empty),
// vectors, string-keyed maps and other described structs. The reader names the field in every
// error: "missing field 'analysis.score'", "field 'series[0].windows[3].count' must be a
// non-negative integer, not string".
//
//   struct phase_span {
//     std::string name;
//     double start = 0;
//     static constexpr auto json_fields() {
//       return std::tuple{field("name", &phase_span::name), field("start", &phase_span::start)};
//     }
//   };
//
// Adding a member to the JSON form is one line in its table.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace faultline {

// `v` as T when it is a whole number that fits T; nothing otherwise. nlohmann's get<T>() would
// convert 1e23 or -1 to an integer type with undefined or wrapped results.
template <std::integral T>
std::optional<T> whole_number_in(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (std::in_range<T>(u)) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (std::in_range<T>(i)) return static_cast<T>(i);
  }
  return std::nullopt;
}

// A value that does not fit its field. The message names the field by its path in the document.
class json_field_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A rule a field's JSON value must meet beyond its type: nothing when it holds, else what the value
// must be and what it is ("a positive number of seconds, not 0").
using json_rule = std::optional<std::string> (*)(const nlohmann::json& value);

template <typename T, typename M>
struct json_field {
  std::string_view name;
  M T::*member;
  json_rule rule = nullptr;
  bool omitted_when_empty = false;
};

template <typename T, typename M>
constexpr json_field<T, M> field(std::string_view name, M T::*member, json_rule rule = nullptr) {
  return {name, member, rule};
}

// A list that only some documents have: left out when empty, and missing reads as empty (so
// documents written before it existed still read).
template <typename T, typename M>
constexpr json_field<T, M> field_omitted_when_empty(std::string_view name, M T::*member) {
  return {name, member, nullptr, true};
}

// A struct with a JSON form: its static json_fields() returns a std::tuple of field(...).
template <typename T>
concept json_described = requires { T::json_fields(); };

namespace json_detail {

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};
template <typename T>
struct is_string_map : std::false_type {};
template <typename T>
struct is_string_map<std::map<std::string, T>> : std::true_type {};

inline std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// `shown` replaces the type of what was found ("number") where the value itself says more.
[[noreturn]] inline void fail(const std::string& path, std::string_view expected, const nlohmann::json& got,
                              bool or_null, std::string_view shown = {}) {
  const auto what = path.empty() ? std::string("the document") : fmt::format("field '{}'", path);
  throw json_field_error(fmt::format("{} must be {}{}, not {}", what, expected, or_null ? " or null" : "",
                                     shown.empty() ? std::string_view(got.type_name()) : shown));
}

}  // namespace json_detail

template <typename T>
nlohmann::json to_json_value(const T& value);

// The object of a described struct's fields; empty optionals are left out.
template <json_described T>
nlohmann::json write_json_fields(const T& value) {
  nlohmann::json out = nlohmann::json::object();
  std::apply(
      [&](const auto&... f) {
        auto put = [&](const auto& fld) {
          const auto& member = value.*(fld.member);
          using M = std::remove_cvref_t<decltype(member)>;
          if constexpr (json_detail::is_optional<M>::value) {
            if (member) out[std::string(fld.name)] = to_json_value(*member);
          } else if constexpr (json_detail::is_vector<M>::value) {
            if (!(fld.omitted_when_empty && member.empty())) out[std::string(fld.name)] = to_json_value(member);
          } else {
            out[std::string(fld.name)] = to_json_value(member);
          }
        };
        (put(f), ...);
      },
      T::json_fields());
  return out;
}

template <typename T>
nlohmann::json to_json_value(const T& value) {
  if constexpr (json_described<T>) {
    return write_json_fields(value);
  } else if constexpr (json_detail::is_vector<T>::value) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : value) out.push_back(to_json_value(v));
    return out;
  } else if constexpr (json_detail::is_string_map<T>::value) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : value) out[k] = to_json_value(v);
    return out;
  } else {
    return nlohmann::json(value);  // strings, booleans, numbers, nlohmann::json
  }
}

// Reads `node` (at `path` in the document) as a T; `or_null` words a type error for an optional.
template <typename T>
T from_json_value(const nlohmann::json& node, const std::string& path, bool or_null = false);

// Fills the described fields of `out` from the object `node`. Keys the table does not name are
// ignored, so a later writer may add fields.
template <json_described T>
void read_json_fields(const nlohmann::json& node, const std::string& path, T& out) {
  if (!node.is_object()) json_detail::fail(path, "an object", node, false);
  std::apply(
      [&](const auto&... f) {
        auto get = [&](const auto& fld) {
          auto& member = out.*(fld.member);
          using M = std::remove_cvref_t<decltype(member)>;
          const auto at = json_detail::child(path, fld.name);
          auto it = node.find(fld.name);
          if constexpr (json_detail::is_optional<M>::value) {
            if (it == node.end() || it->is_null()) {
              member.reset();
              return;
            }
            member = from_json_value<typename M::value_type>(*it, at, true);
          } else {
            if (it == node.end() && fld.omitted_when_empty) {
              member = M{};
              return;
            }
            if (it == node.end()) throw json_field_error(fmt::format("missing field '{}'", at));
            member = from_json_value<M>(*it, at);
          }
          if (fld.rule)
            if (auto wrong = fld.rule(*it)) throw json_field_error(fmt::format("field '{}' must be {}", at, *wrong));
        };
        (get(f), ...);
      },
      T::json_fields());
}

template <typename T>
T from_json_value(const nlohmann::json& node, const std::string& path, bool or_null) {
  using json_detail::fail;
  if constexpr (json_described<T>) {
    if (!node.is_object()) fail(path, "an object", node, or_null);
    T out{};
    read_json_fields(node, path, out);
    return out;
  } else if constexpr (json_detail::is_vector<T>::value) {
    if (!node.is_array()) fail(path, "an array", node, or_null);
    T out;
    out.reserve(node.size());
    for (std::size_t i = 0; i < node.size(); ++i)
      out.push_back(from_json_value<typename T::value_type>(node[i], fmt::format("{}[{}]", path, i)));
    return out;
  } else if constexpr (json_detail::is_string_map<T>::value) {
    if (!node.is_object()) fail(path, "an object", node, or_null);
    T out;
    for (const auto& [k, v] : node.items()) out[k] = from_json_value<typename T::mapped_type>(v, json_detail::child(path, k));
    return out;
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return node;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!node.is_string()) fail(path, "a string", node, or_null);
    return node.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!node.is_boolean()) fail(path, "true or false", node, or_null);
    return node.get<bool>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!node.is_number()) fail(path, "a number", node, or_null);
    return node.get<T>();
  } else if constexpr (std::is_integral_v<T>) {
    if (const auto v = whole_number_in<T>(node)) return *v;
    const std::string kind = std::is_unsigned_v<T> ? "a non-negative integer" : "an integer";
    const bool negative = node.is_number_integer() && !node.is_number_unsigned() && node.get<std::int64_t>() < 0;
    if (!node.is_number_integer() || (std::is_unsigned_v<T> && negative)) fail(path, kind, node, or_null);  // 1.5, "3", -1
    // A whole number outside T: say the range and show the number (its type says nothing).
    fail(path, fmt::format("{} from {} to {}", kind, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()),
         node, or_null, node.dump());
  } else {
    static_assert(!sizeof(T), "a member type json_fields cannot read: give it a static json_fields()");
  }
}

}  // namespace faultline
