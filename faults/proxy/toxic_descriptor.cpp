#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace faultline::proxy {

namespace {

using nlohmann::json;
using ordered = nlohmann::ordered_json;
using std::chrono::nanoseconds;

// Each API unit once: its symbol, its name in messages, and canonical units (ns, bytes per
// second, bytes) per API unit.
struct unit_facts {
  api_unit unit;
  const char* symbol;
  const char* words;
  double scale;
};
constexpr unit_facts all_units[] = {
    {api_unit::plain, "", "", 1},
    {api_unit::milliseconds, "ms", "milliseconds", 1e6},
    {api_unit::microseconds, "µs", "microseconds", 1e3},
    {api_unit::kilobytes_per_second, "KB/s", "KB/s", 1e3},
    {api_unit::bytes, "bytes", "bytes", 1},
};

const unit_facts& facts(api_unit unit) {
  for (const auto& f : all_units)
    if (f.unit == unit) return f;
  return all_units[0];
}

double scale_of(api_unit unit) { return facts(unit).scale; }
const char* unit_words(api_unit unit) { return facts(unit).words; }

bool numeric(param_kind kind) {
  return kind == param_kind::duration || kind == param_kind::integer || kind == param_kind::number || kind == param_kind::fraction ||
         kind == param_kind::rate || kind == param_kind::size || kind == param_kind::bandwidth;
}

// Whether the control API can write a parameter of this kind in this unit.
bool unit_fits(api_unit unit, param_kind kind) {
  switch (unit) {
    case api_unit::plain:
      return !numeric(kind) || kind == param_kind::integer || kind == param_kind::number || kind == param_kind::fraction;
    case api_unit::milliseconds:
    case api_unit::microseconds: return kind == param_kind::duration;
    case api_unit::kilobytes_per_second: return kind == param_kind::bandwidth;
    case api_unit::bytes: return kind == param_kind::size;
  }
  return false;
}

// Whole numbers go out as JSON integers, as Toxiproxy writes them; finer values as fractions.
ordered json_number(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9.0e15) return static_cast<std::int64_t>(value);
  return value;
}

// A bound (in canonical units) as a value of the kind, to write it as people do ("24h").
param_value value_of(param_kind kind, double canonical) {
  switch (kind) {
    case param_kind::duration: return nanoseconds(static_cast<std::int64_t>(canonical));
    case param_kind::size:
    case param_kind::integer: return static_cast<std::int64_t>(canonical);
    default: return canonical;
  }
}

ordered to_api(const toxic_param& tp, const param_value& value) {
  const auto scale = scale_of(tp.unit);
  return std::visit(
      [&](const auto& v) -> ordered {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, nanoseconds>) {
          const auto unit = static_cast<std::int64_t>(scale);
          if (v.count() % unit == 0) return v.count() / unit;
          return static_cast<double>(v.count()) / scale;
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) {
          return json_number(static_cast<double>(v) / scale);
        } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
          ordered out = ordered::object();
          for (const auto& [k, x] : v) out[k] = x;
          return out;
        } else {
          return v;  // bool, string, list of strings
        }
      },
      value);
}

// What an attribute takes, for messages: "a whole number of milliseconds", "one of reset, close".
std::string takes(const toxic_param& tp) {
  const auto& s = tp.spec;
  switch (s.kind) {
    case param_kind::duration:
    case param_kind::size:
    case param_kind::bandwidth:
    case param_kind::integer:
      return tp.unit == api_unit::plain ? "a whole number" : fmt::format("a whole number of {}", unit_words(tp.unit));
    case param_kind::number:
    case param_kind::fraction:
    case param_kind::rate: return "a number";
    case param_kind::flag: return "true or false";
    case param_kind::choice: return fmt::format("one of {}", fmt::join(s.choices, ", "));
    case param_kind::text_list: return "a string or an array of strings";
    case param_kind::text_map: return "an object of strings";
    case param_kind::text:
    case param_kind::host_port: return "a string";
  }
  return "a string";
}

// A number within the parameter's range, in API units; whole unless the kind takes fractions.
double api_number(const toxic_param& tp, const json& v) {
  const auto& s = tp.spec;
  const auto scale = scale_of(tp.unit);
  const double lo = s.min ? *s.min / scale : -std::numeric_limits<double>::infinity();
  const double hi = s.max ? *s.max / scale : std::numeric_limits<double>::infinity();
  const bool whole = s.kind == param_kind::duration || s.kind == param_kind::size || s.kind == param_kind::bandwidth ||
                     s.kind == param_kind::integer;
  const auto bound = [](double x) { return json_number(x).dump(); };
  const auto low = [&] {
    auto at_least = s.min ? fmt::format(" ({} or more)", bound(lo)) : std::string();
    return attribute_error(fmt::format("attribute '{}' must be {}{}, got {}", s.name, takes(tp), at_least, v.dump()));
  };
  const auto high = [&] {
    auto units = tp.unit == api_unit::plain ? std::string() : std::string(" ") + unit_words(tp.unit);
    return attribute_error(fmt::format("attribute '{}' must be at most {}{} ({}), got {}", s.name, bound(hi), units,
                                       format_param(s.kind, value_of(s.kind, s.max.value_or(hi))), v.dump()));
  };
  // Unsigned and signed integers are compared as integers, so 9223372036854775807 is not rounded into range.
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (static_cast<double>(u) > hi || u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) throw high();
    if (static_cast<double>(u) < lo) throw low();
    return static_cast<double>(u);
  }
  if (v.is_number_integer()) {
    auto i = v.get<std::int64_t>();
    if (static_cast<double>(i) < lo) throw low();
    if (static_cast<double>(i) > hi) throw high();
    return static_cast<double>(i);
  }
  if (!v.is_number_float()) throw low();
  auto x = v.get<double>();
  if (!std::isfinite(x) || x < lo || (whole && x != std::floor(x))) throw low();
  if (x > hi) throw high();
  return x;
}

std::vector<std::string> api_list(const toxic_param& tp, const json& v) {
  std::vector<std::string> out;
  auto bad = [&] { return attribute_error(fmt::format("attribute '{}' must be {}, got {}", tp.spec.name, takes(tp), v.dump())); };
  if (v.is_string()) {  // "GET, MGET": comma-separated, blanks around items ignored
    auto text = v.get<std::string>();
    std::size_t start = 0;
    for (;;) {
      auto comma = text.find(',', start);
      auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto first = item.find_first_not_of(" \t");
      auto last = item.find_last_not_of(" \t");
      if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  if (!v.is_array()) throw bad();
  for (const auto& item : v) {
    if (!item.is_string()) throw bad();
    out.push_back(item.get<std::string>());
  }
  return out;
}

param_value from_api(const toxic_param& tp, const json& v) {
  const auto& s = tp.spec;
  const auto bad = [&] { return attribute_error(fmt::format("attribute '{}' must be {}, got {}", s.name, takes(tp), v.dump())); };
  const auto scale = scale_of(tp.unit);
  switch (s.kind) {
    case param_kind::duration: {
      auto x = api_number(tp, v);  // in range, so the product fits
      return nanoseconds(static_cast<std::int64_t>(x) * static_cast<std::int64_t>(scale));
    }
    case param_kind::size:
    case param_kind::integer: return static_cast<std::int64_t>(api_number(tp, v)) * static_cast<std::int64_t>(scale);
    case param_kind::bandwidth:
    case param_kind::number:
    case param_kind::fraction:
    case param_kind::rate: return api_number(tp, v) * scale;
    case param_kind::flag:
      if (!v.is_boolean()) throw bad();
      return v.get<bool>();
    case param_kind::choice: {
      if (!v.is_string()) throw bad();
      auto text = v.get<std::string>();
      if (std::find(s.choices.begin(), s.choices.end(), text) == s.choices.end()) throw bad();
      return text;
    }
    case param_kind::text_list: return api_list(tp, v);
    case param_kind::text_map: {
      if (!v.is_object()) throw bad();
      std::map<std::string, std::string> out;
      for (const auto& [k, x] : v.items()) {
        if (!x.is_string()) throw bad();
        out[k] = x.get<std::string>();
      }
      return out;
    }
    case param_kind::text:
    case param_kind::host_port:
      if (!v.is_string()) throw bad();
      return v.get<std::string>();
  }
  throw bad();
}

// Validates and makes settings that came through the control API, worded for it.
std::shared_ptr<const toxic_config> finish(const toxic_descriptor& d, const params& p) {
  try {
    if (d.validate)
      d.validate(p, [&](const std::string& name) {
        const auto* tp = d.find(name);
        return tp && p.has(name) ? fmt::format("'{}' ({})", name, to_api(*tp, p.values().at(name)).dump()) : "'" + name + "'";
      });
  } catch (const param_error& e) {
    throw attribute_error(std::string("attribute ") + e.what());
  }
  try {
    return d.make(p);
  } catch (const param_error& e) {
    throw attribute_error(e.what());
  }
}

const json* given(const json& attributes, const std::string& name) {
  if (!attributes.is_object()) return nullptr;
  auto it = attributes.find(name);
  if (it == attributes.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

const char* to_string(api_unit unit) { return facts(unit).symbol; }

toxic_param duration_param(std::string name, std::string help, std::optional<nanoseconds> fallback, api_unit unit) {
  param_spec s{std::move(name), param_kind::duration, std::move(help)};
  if (fallback) s.default_value = *fallback;
  s.required = !fallback;
  s.min = 0.0;
  s.max = static_cast<double>(nanoseconds(max_toxic_duration).count());
  return {std::move(s), unit};
}

toxic_param size_param(std::string name, std::string help, std::optional<std::int64_t> fallback, std::int64_t min) {
  param_spec s{std::move(name), param_kind::size, std::move(help)};
  if (fallback) s.default_value = *fallback;
  s.required = !fallback;
  s.min = static_cast<double>(min);
  s.max = static_cast<double>(max_toxic_size);
  return {std::move(s), api_unit::bytes};
}

toxic_param bandwidth_param(std::string name, std::string help, std::optional<double> fallback) {
  param_spec s{std::move(name), param_kind::bandwidth, std::move(help)};
  if (fallback) s.default_value = *fallback;
  s.required = !fallback;
  s.min = 0.0;
  s.max = max_toxic_bandwidth;
  return {std::move(s), api_unit::kilobytes_per_second};
}

toxic_param text_param(std::string name, std::string help, std::optional<std::string> fallback) {
  param_spec s{std::move(name), param_kind::text, std::move(help)};
  if (fallback) s.default_value = *fallback;
  s.required = !fallback;
  return {std::move(s), api_unit::plain};
}

toxic_param choice_param(std::string name, std::string help, std::string fallback, std::vector<std::string> choices) {
  param_spec s{std::move(name), param_kind::choice, std::move(help), std::move(fallback)};
  s.choices = std::move(choices);
  return {std::move(s), api_unit::plain};
}

toxic_param list_param(std::string name, std::string help) {
  return {{std::move(name), param_kind::text_list, std::move(help), std::vector<std::string>{}}, api_unit::plain};
}

const toxic_param* toxic_descriptor::find(std::string_view param) const {
  auto it = std::find_if(params.begin(), params.end(), [&](const toxic_param& tp) { return tp.spec.name == param; });
  return it == params.end() ? nullptr : &*it;
}

param_schema toxic_descriptor::schema() const {
  param_schema out;
  for (const auto& tp : params) out.push_back(tp.spec);
  return out;
}

faultline::params toxic_descriptor::own(const faultline::params& given_params) const {
  faultline::params out;
  for (const auto& tp : params)
    if (auto it = given_params.values().find(tp.spec.name); it != given_params.values().end()) out.set(tp.spec.name, it->second);
  return out;
}

std::shared_ptr<const toxic_config> toxic_descriptor::create(const faultline::params& given_params) const {
  auto p = own(given_params);
  if (validate)
    validate(p, [&](const std::string& param) {
      const auto* tp = find(param);
      return tp && p.has(param) ? fmt::format("{} ({})", param, format_param(tp->spec.kind, p.values().at(param))) : param;
    });
  return make(p);
}

std::shared_ptr<const toxic_config> toxic_descriptor::parse(const json& attributes) const {
  if (!attributes.is_null() && !attributes.is_object()) throw attribute_error("attributes must be a JSON object");
  faultline::params p;
  for (const auto& tp : params) {
    if (const auto* v = given(attributes, tp.spec.name)) p.set(tp.spec.name, from_api(tp, *v));
    else if (tp.spec.default_value) p.set(tp.spec.name, *tp.spec.default_value);
    else throw attribute_error(fmt::format("missing required attribute '{}' ({})", tp.spec.name, takes(tp)));
  }
  return finish(*this, p);
}

std::shared_ptr<const toxic_config> toxic_descriptor::merge(const toxic_config& current, const json& changes) const {
  if (!changes.is_null() && !changes.is_object()) throw attribute_error("attributes must be a JSON object");
  auto p = current.settings();
  for (const auto& tp : params)
    if (const auto* v = given(changes, tp.spec.name)) p.set(tp.spec.name, from_api(tp, *v));
  return finish(*this, p);
}

nlohmann::ordered_json toxic_descriptor::attributes(const faultline::params& settings) const {
  ordered out = ordered::object();
  for (const auto& tp : params)
    if (auto it = settings.values().find(tp.spec.name); it != settings.values().end()) out[tp.spec.name] = to_api(tp, it->second);
  return out;
}

void toxic_descriptor::check() const {
  const auto wrong = [&](const std::string& what) { return std::logic_error(fmt::format("toxic type '{}': {}", name, what)); };
  if (name.empty() || !make || !describe) throw wrong("needs a name, a factory and an evidence wording");
  if (!protocol.empty() && noun.empty()) throw wrong("a message-level toxic names its messages (noun)");
  for (const auto& tp : params) {
    const auto& s = tp.spec;
    if (s.required == s.default_value.has_value()) throw wrong(fmt::format("parameter '{}' must be required or have a default", s.name));
    if (numeric(s.kind) && (!s.min || !s.max)) throw wrong(fmt::format("numeric parameter '{}' needs a min and a max", s.name));
    if (!unit_fits(tp.unit, s.kind)) throw wrong(fmt::format("parameter '{}' is a {} but its API unit is {}", s.name, faultline::to_string(s.kind), to_string(tp.unit)));
  }
}

params settings_of(std::initializer_list<std::pair<const char*, param_value>> values) {
  faultline::params out;
  for (const auto& [name, value] : values) out.set(name, value);
  return out;
}

std::string plural(std::uint64_t n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); }

std::string bytes_text(std::uint64_t n) {
  if (n >= 10u << 20) return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1 << 20));
  if (n >= 10u << 10) return fmt::format("{:.1f} KiB", static_cast<double>(n) / (1 << 10));
  return fmt::format("{} bytes", n);
}

std::string links_text(const toxic_stats& s) { return plural(s.links_affected_total, "connection direction", "connection directions"); }

}  // namespace faultline::proxy
