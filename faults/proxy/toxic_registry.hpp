#pragma once
// Toxic types by name, for the control API and config files: each parses Toxiproxy-style JSON
// attributes (ms, KB/s, us, bytes) into an immutable toxic_config. register_builtin_toxics()
// is the one place the built-in types are registered; protocol modules add theirs there too.

#include "faults/proxy/toxic.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::proxy {

// A bad attribute value; the message names the attribute and what it takes.
class attribute_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class toxic_registry {
public:
  // Parses attributes (missing ones take their defaults); throws attribute_error.
  using parser = std::function<std::shared_ptr<const toxic_config>(const nlohmann::json& attributes)>;
  struct entry {
    std::string type;
    std::string summary;
    std::string protocol;  // empty for byte-level toxics
    parser parse;
  };

  // Throws std::logic_error when the type is taken.
  void add(entry e);
  const entry* find(std::string_view type) const;
  std::vector<std::string> names() const;

  // Toxiproxy's update: the toxic's current attributes with `changes` laid over them.
  std::shared_ptr<const toxic_config> merge(const toxic_config& current, const nlohmann::json& changes) const;

private:
  std::map<std::string, entry, std::less<>> entries_;
};

void register_builtin_toxics(toxic_registry& registry);

// For parsers: a non-negative whole number attribute (JSON integer, or a float with no
// fraction); `fallback` when absent or null.
std::int64_t whole_attribute(const nlohmann::json& attributes, const char* name, std::int64_t fallback, const char* unit);

}  // namespace faultline::proxy
