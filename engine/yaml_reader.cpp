#include "engine/yaml_reader.hpp"

#include "core/address.hpp"
#include "core/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace faultline::engine {

std::string source_mark::position() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string diagnostic::to_string() const {
  if (where.path.empty()) return fmt::format("{}: {}", where.position(), message);
  return fmt::format("{}: {}: {}", where.position(), where.path, message);
}

namespace {
std::string join_problems(const std::vector<diagnostic>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += '\n';
    out += p.to_string();
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return fmt::format("'{}'", node.Scalar());
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "something else";
}

std::string example_of(param_kind kind) {
  switch (kind) {
    case param_kind::duration: return "a duration such as 250ms";
    case param_kind::integer: return "a whole number";
    case param_kind::number: return "a number";
    case param_kind::fraction: return "a percentage such as 10% (or 0.1)";
    case param_kind::rate: return "a rate such as 200/s";
    case param_kind::size: return "a size such as 64KiB";
    case param_kind::bandwidth: return "a bandwidth such as 10MB/s";
    case param_kind::text: return "a string";
    case param_kind::flag: return "true or false";
    case param_kind::choice: return "one of the listed choices";
    case param_kind::host_port: return "an address such as 127.0.0.1:5432";
    case param_kind::text_list: return "a list of strings";
    case param_kind::text_map: return "a mapping of strings";
  }
  return "a value";
}

// The value of a parameter in its canonical unit, for min/max checks.
std::optional<double> canonical(const param_value& v) {
  if (auto* d = std::get_if<std::chrono::nanoseconds>(&v)) return static_cast<double>(d->count());
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (auto* x = std::get_if<double>(&v)) return *x;
  return std::nullopt;
}

std::string format_bound(param_kind kind, double value) {
  switch (kind) {
    case param_kind::duration: return format_duration(std::chrono::nanoseconds(static_cast<std::int64_t>(value)));
    case param_kind::fraction: return format_fraction(value);
    case param_kind::rate: return format_rate(value);
    case param_kind::size: return format_size(static_cast<std::int64_t>(value));
    case param_kind::bandwidth: return format_bandwidth(value);
    default: return fmt::format("{:g}", value);
  }
}
}  // namespace

config_error::config_error(std::vector<diagnostic> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

std::optional<std::string> variables::lookup(const std::string& name) const {
  if (auto it = values.find(name); it != values.end()) return it->second;
  if (use_environment)
    if (const char* env = std::getenv(name.c_str())) return std::string(env);
  return std::nullopt;
}

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    auto d = edit_distance(word, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  return best;
}

std::string path_index(const std::string& path, std::size_t index) { return fmt::format("{}[{}]", path, index); }

std::string path_key(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

YAML::Node yaml_reader::parse(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    source_mark where{file_, e.mark.line + 1, e.mark.column + 1, ""};
    error(where, fmt::format("YAML syntax error: {}", e.msg));
    return YAML::Node(YAML::NodeType::Undefined);
  }
}

void yaml_reader::substitute(YAML::Node node, const variables& vars, const std::string& path,
                             const std::set<std::string>& keep) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      auto key = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
      substitute(it->second, vars, path_key(path, key), keep);
    }
    return;
  }
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) substitute(node[i], vars, path_index(path, i), keep);
    return;
  }
  if (!node.IsScalar() || node.Scalar().find('$') == std::string::npos) return;
  const std::string& in = node.Scalar();
  std::string out;
  bool changed = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '$') {  // "$$" is a literal '$'
      out += '$';
      ++i;
      changed = true;
      continue;
    }
    if (in[i] != '$' || i + 1 >= in.size() || in[i + 1] != '{') {
      out += in[i];
      continue;
    }
    auto close = in.find('}', i + 2);
    if (close == std::string::npos) {
      error(node, path, fmt::format("unterminated '${{' in '{}'; write ${{NAME}}", in));
      return;
    }
    std::string body = in.substr(i + 2, close - i - 2);
    if (keep.contains(body.substr(0, body.find('.')))) {
      out += in.substr(i, close - i + 1);
      i = close;
      continue;
    }
    std::optional<std::string> fallback;
    if (auto sep = body.find(":-"); sep != std::string::npos) {
      fallback = body.substr(sep + 2);
      body = body.substr(0, sep);
    }
    auto value = vars.lookup(body);
    if (!value) value = fallback;
    if (!value) {
      error(node, path, fmt::format("variable '{}' is not set; pass --var {}=VALUE, set it in the environment, "
                                    "or give a default as ${{{}:-VALUE}}", body, body, body));
      return;
    }
    out += *value;
    changed = true;
    i = close;
  }
  if (changed) node = out;
}

source_mark yaml_reader::mark(const YAML::Node& node, const std::string& path) const {
  auto m = node.Mark();
  if (m.is_null()) return {file_, 0, 0, path};
  return {file_, m.line + 1, m.column + 1, path};
}

void yaml_reader::error(const YAML::Node& node, const std::string& path, std::string message) {
  error(mark(node, path), std::move(message));
}

void yaml_reader::error(const source_mark& where, std::string message) {
  problems_.push_back({where, std::move(message)});
}

void yaml_reader::throw_if_failed() const {
  if (problems_.empty()) return;
  // One problem per position: the first found is the cause, later ones there are consequences.
  std::vector<diagnostic> kept;
  for (const auto& p : problems_) {
    bool seen = p.where.line > 0 && std::any_of(kept.begin(), kept.end(), [&](const diagnostic& k) {
      return k.where.line == p.where.line && k.where.column == p.where.column;
    });
    if (!seen) kept.push_back(p);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const diagnostic& a, const diagnostic& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  throw config_error(std::move(kept));
}

bool yaml_reader::expect_map(const YAML::Node& node, const std::string& path,
                             const std::vector<std::string>& allowed, const std::string& what) {
  if (!node.IsMap()) {
    error(node, path, fmt::format("{} must be a mapping of keys to values, not {}", what, describe(node)));
    return false;
  }
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      error(it->first, path, "keys must be plain names");
      continue;
    }
    const auto& key = it->first.Scalar();
    if (!seen.insert(key).second) {
      error(it->first, path_key(path, key), fmt::format("duplicate key '{}' in {}", key, what));
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = fmt::format("unknown key '{}' in {}", key, what);
    if (auto guess = closest_match(key, allowed)) message += fmt::format(" (did you mean '{}'?)", *guess);
    else if (!allowed.empty()) {
      std::string known;
      for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
      message += fmt::format(" (known keys: {})", known);
    }
    error(it->first, path_key(path, key), message);
  }
  return true;
}

YAML::Node yaml_reader::child(const YAML::Node& map, const std::string& key) {
  if (map.IsMap())
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node(YAML::NodeType::Undefined);
}

void yaml_reader::require(const YAML::Node& map, const std::string& path, const std::string& key,
                          const std::string& what) {
  if (map.IsMap() && !child(map, key).IsDefined())
    error(map, path, fmt::format("{} is missing the required key '{}'", what, key));
}

std::optional<std::string> yaml_reader::text(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) {
    error(node, path, fmt::format("expected a single value, not {}", describe(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<bool> yaml_reader::flag(const YAML::Node& node, const std::string& path) {
  auto s = text(node, path);
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "yes" || *s == "on") return true;
  if (*s == "false" || *s == "no" || *s == "off") return false;
  error(node, path, fmt::format("expected true or false, not '{}'", *s));
  return std::nullopt;
}

std::optional<std::int64_t> yaml_reader::integer(const YAML::Node& node, const std::string& path,
                                                 std::optional<std::int64_t> min, std::optional<std::int64_t> max) {
  auto v = convert<std::int64_t>(node, path, [](const std::string& s) { return parse_integer(s); });
  if (v && min && *v < *min) {
    error(node, path, fmt::format("{} is below the minimum of {}", *v, *min));
    return std::nullopt;
  }
  if (v && max && *v > *max) {
    error(node, path, fmt::format("{} is above the maximum of {}", *v, *max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> yaml_reader::number(const YAML::Node& node, const std::string& path) {
  return convert<double>(node, path, [](const std::string& s) { return parse_number(s); });
}

std::optional<std::chrono::nanoseconds> yaml_reader::duration(const YAML::Node& node, const std::string& path) {
  return convert<std::chrono::nanoseconds>(node, path, [](const std::string& s) { return parse_duration(s); });
}

std::optional<std::vector<std::string>> yaml_reader::text_list(const YAML::Node& node, const std::string& path) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) {
    error(node, path, fmt::format("expected a list, not {}", describe(node)));
    return std::nullopt;
  }
  bool ok = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    if (auto s = text(node[i], path_index(path, i))) out.push_back(*s);
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<param_value> yaml_reader::read_param(const YAML::Node& node, const std::string& path,
                                                   const param_spec& spec) {
  std::optional<param_value> value;
  const auto via = [&](auto parse) -> std::optional<param_value> {
    using T = decltype(parse(std::string()));
    auto v = convert<T>(node, path, parse);
    if (!v) return std::nullopt;
    return param_value(*v);
  };
  switch (spec.kind) {
    case param_kind::duration: value = via([](const std::string& s) { return parse_duration(s); }); break;
    case param_kind::integer: value = via([](const std::string& s) { return parse_integer(s); }); break;
    case param_kind::number: value = via([](const std::string& s) { return parse_number(s); }); break;
    case param_kind::fraction: value = via([](const std::string& s) { return parse_fraction(s); }); break;
    case param_kind::rate: value = via([](const std::string& s) { return parse_rate(s); }); break;
    case param_kind::size: value = via([](const std::string& s) { return parse_size(s); }); break;
    case param_kind::bandwidth: value = via([](const std::string& s) { return parse_bandwidth(s); }); break;
    case param_kind::text:
      if (auto s = text(node, path)) value = *s;
      break;
    case param_kind::flag:
      if (auto b = flag(node, path)) value = *b;
      break;
    case param_kind::choice:
      if (auto s = text(node, path)) {
        if (std::find(spec.choices.begin(), spec.choices.end(), *s) != spec.choices.end()) {
          value = *s;
        } else {
          std::string known;
          for (const auto& c : spec.choices) known += (known.empty() ? "" : ", ") + c;
          std::string message = fmt::format("'{}' is not a valid {} (choose one of: {})", *s, spec.name, known);
          if (auto guess = closest_match(*s, spec.choices)) message += fmt::format("; did you mean '{}'?", *guess);
          error(node, path, message);
        }
      }
      break;
    case param_kind::host_port:
      if (auto s = text(node, path)) {
        try {
          value = parse_address(*s).to_string();
        } catch (const std::invalid_argument& e) {
          error(node, path, e.what());
        }
      }
      break;
    case param_kind::text_list:
      if (auto l = text_list(node, path)) value = *l;
      break;
    case param_kind::text_map: {
      if (!node.IsMap()) {
        error(node, path, fmt::format("expected a mapping of names to values, not {}", describe(node)));
        break;
      }
      std::map<std::string, std::string> m;
      for (auto it = node.begin(); it != node.end(); ++it) {
        auto key = it->first.IsScalar() ? it->first.Scalar() : std::string();
        if (auto s = text(it->second, path_key(path, key))) m[key] = *s;
      }
      value = std::move(m);
      break;
    }
  }
  if (!value) return std::nullopt;
  if (auto c = canonical(*value)) {
    if (spec.min && *c < *spec.min) {
      error(node, path, fmt::format("{} must be at least {}", spec.name, format_bound(spec.kind, *spec.min)));
      return std::nullopt;
    }
    if (spec.max && *c > *spec.max) {
      error(node, path, fmt::format("{} must be at most {}", spec.name, format_bound(spec.kind, *spec.max)));
      return std::nullopt;
    }
  }
  return value;
}

params yaml_reader::read_params(const YAML::Node& map, const std::string& path, const param_schema& schema,
                                const std::string& what) {
  params out;
  for (const auto& spec : schema) {
    YAML::Node node(YAML::NodeType::Undefined);
    std::string where = path_key(path, spec.name);
    if (auto dot = spec.name.find('.'); dot != std::string::npos) {
      auto outer = child(map, spec.name.substr(0, dot));
      if (outer.IsDefined() && outer.IsMap()) node = child(outer, spec.name.substr(dot + 1));
    } else {
      node = child(map, spec.name);
    }
    if (node.IsDefined() && !node.IsNull()) {
      if (auto v = read_param(node, where, spec)) out.set(spec.name, std::move(*v));
    } else if (spec.required) {
      error(map, path, fmt::format("{} is missing the required parameter '{}' ({})", what, spec.name,
                                   example_of(spec.kind)));
    } else if (spec.default_value) {
      out.set(spec.name, *spec.default_value);
    }
  }
  // Nested mappings ("expect: {status: 200}") may only hold the declared inner keys.
  std::map<std::string, std::vector<std::string>> nested;
  for (const auto& spec : schema)
    if (auto dot = spec.name.find('.'); dot != std::string::npos)
      nested[spec.name.substr(0, dot)].push_back(spec.name.substr(dot + 1));
  for (const auto& [outer, inner] : nested) {
    auto node = child(map, outer);
    if (node.IsDefined()) expect_map(node, path_key(path, outer), inner, fmt::format("'{}'", outer));
  }
  return out;
}

}  // namespace faultline::engine
