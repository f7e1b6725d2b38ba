#pragma once
// Reads a YAML document into typed values while collecting every problem with its position:
// unknown keys (with did-you-mean), wrong types, bad units, missing fields, ${VAR} substitution.

#include "core/params.hpp"
#include "engine/config_error.hpp"
#include "engine/source.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::engine {

// Variables for ${NAME} and ${NAME:-default}: --var values win over the environment.
struct variables {
  std::map<std::string, std::string> values;
  bool use_environment = true;
  std::optional<std::string> lookup(const std::string& name) const;
};

// The closest candidate within a small edit distance, for "did you mean".
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

class yaml_reader {
public:
  explicit yaml_reader(std::string file) : file_(std::move(file)) {}

  // Parses text; a syntax error becomes a diagnostic and the result is null.
  YAML::Node parse(const std::string& text);
  // Replaces ${NAME} in every scalar, in place; unknown names are diagnostics. Names in `keep`
  // (and `keep.column`) stay as written: the load fills them in per request (its values, captures).
  void substitute(YAML::Node node, const variables& vars, const std::string& path,
                  const std::set<std::string>& keep = {});

  source_mark mark(const YAML::Node& node, const std::string& path) const;
  void error(const YAML::Node& node, const std::string& path, std::string message);
  void error(const source_mark& where, std::string message);
  bool failed() const { return !problems_.empty(); }
  const std::vector<diagnostic>& problems() const { return problems_; }
  // Throws config_error with everything collected, if anything was.
  void throw_if_failed() const;
  const std::string& file() const { return file_; }

  // A mapping whose keys must all be in `allowed`. Reports unknown and duplicate keys.
  // Returns false (after reporting) when the node is not a mapping.
  bool expect_map(const YAML::Node& node, const std::string& path, const std::vector<std::string>& allowed,
                  const std::string& what);
  // The value of `key` in a mapping, or a null node.
  static YAML::Node child(const YAML::Node& map, const std::string& key);
  // Reports a missing required key at the mapping's position.
  void require(const YAML::Node& map, const std::string& path, const std::string& key, const std::string& what);

  std::optional<std::string> text(const YAML::Node& node, const std::string& path);
  std::optional<bool> flag(const YAML::Node& node, const std::string& path);
  std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& path,
                                      std::optional<std::int64_t> min = {}, std::optional<std::int64_t> max = {});
  std::optional<double> number(const YAML::Node& node, const std::string& path);
  std::optional<std::chrono::nanoseconds> duration(const YAML::Node& node, const std::string& path);
  std::optional<std::vector<std::string>> text_list(const YAML::Node& node, const std::string& path);

  // Parses a component's parameters from the keys of `map` named in `schema`; other keys are left
  // for the caller (who checked them with expect_map). Defaults are filled in.
  params read_params(const YAML::Node& map, const std::string& path, const param_schema& schema,
                     const std::string& what);

  // Runs `parse` on the scalar and turns its std::invalid_argument into a diagnostic.
  template <typename T>
  std::optional<T> convert(const YAML::Node& node, const std::string& path,
                           const std::function<T(const std::string&)>& parse);

private:
  std::optional<param_value> read_param(const YAML::Node& node, const std::string& path, const param_spec& spec);

  std::string file_;
  std::vector<diagnostic> problems_;
};

// "steps" + 2 -> "steps[2]"; "timeline" + "baseline" -> "timeline.baseline".
std::string path_index(const std::string& path, std::size_t index);
std::string path_key(const std::string& path, const std::string& key);

template <typename T>
std::optional<T> yaml_reader::convert(const YAML::Node& node, const std::string& path,
                                      const std::function<T(const std::string&)>& parse) {
  auto s = text(node, path);
  if (!s) return std::nullopt;
  try {
    return parse(*s);
  } catch (const std::invalid_argument& e) {
    error(node, path, e.what());
    return std::nullopt;
  }
}

}  // namespace faultline::engine
