#pragma once
// One declaration per toxic type, byte-level or protocol: its name, summary, parameters (names,
// kinds, defaults, ranges, and the unit the control API writes each in), a check of
// combinations, the factory and the evidence wording. The experiment's fault types, the control
// API's parser, every config's attributes(), `faultline list` and the docs check all read it.

#include "core/params.hpp"
#include "faults/proxy/toxic.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline::proxy {

// A bad attribute from the control API; the message names the attribute and what it takes.
class attribute_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// How the Toxiproxy-style control API writes a parameter's value.
enum class api_unit {
  plain,                 // the value itself: a string, a list, true/false
  milliseconds,          // a duration as a whole number of ms (latency, jitter, timeout, delay)
  microseconds,          // a duration as a whole number of µs (slicer's delay)
  kilobytes_per_second,  // a bandwidth as a whole number of KB/s, KB = 1000 bytes (bandwidth's rate)
  bytes,                 // a size as a whole number of bytes
};

// "ms", "µs", "KB/s", "bytes"; "" for plain.
const char* to_string(api_unit unit);

struct toxic_param {
  param_spec spec;
  api_unit unit = api_unit::plain;
};

// The ranges every numeric toxic parameter gets, so no value overflows on its way in.
inline constexpr std::chrono::hours max_toxic_duration{24};
inline constexpr std::int64_t max_toxic_size = std::int64_t{1} << 40;  // 1 TiB
inline constexpr double max_toxic_bandwidth = 100e9;                   // 100 GB/s

// Declaring parameters. A fallback of std::nullopt makes the parameter required, in experiments
// and in the control API alike.
toxic_param duration_param(std::string name, std::string help, std::optional<std::chrono::nanoseconds> fallback,
                           api_unit unit = api_unit::milliseconds);
toxic_param size_param(std::string name, std::string help, std::optional<std::int64_t> fallback, std::int64_t min = 0);
toxic_param bandwidth_param(std::string name, std::string help, std::optional<double> fallback);
toxic_param text_param(std::string name, std::string help, std::optional<std::string> fallback);
toxic_param choice_param(std::string name, std::string help, std::string fallback, std::vector<std::string> choices);
toxic_param list_param(std::string name, std::string help);  // default: empty

// Names a parameter with its value in the units of whoever gave it: "jitter (200ms)" for an
// experiment, "'jitter' (200)" for the control API.
using param_shown = std::function<std::string(const std::string& name)>;
// Rejects a combination of valid values by throwing param_error(param, message). The message
// starts with show(param): the control API puts "attribute " before it.
using toxic_validator = std::function<void(const params&, const param_shown& show)>;
// Builds the immutable settings from complete parameters; may throw param_error naming one
// (a pattern that does not compile).
using toxic_factory = std::function<std::shared_ptr<const toxic_config>(const params&)>;

// What a toxic's counters say it did: whether an effect was seen, and one line about it.
struct toxic_effect {
  bool observed = false;
  std::string summary;
};
using toxic_describer = std::function<toxic_effect(const toxic_stats&)>;

struct toxic_descriptor {
  std::string name;
  std::string summary;  // one line, for `faultline list`
  std::string protocol;  // "" for byte-level toxics
  std::string noun;      // message-level: what one message is in evidence ("query", "command", "connection")
  std::vector<toxic_param> params;
  toxic_validator validate;  // optional
  toxic_factory make;
  toxic_describer describe;
  bool api_only = false;  // the control API has it, experiments do not (noop)

  const toxic_param* find(std::string_view param) const;
  param_schema schema() const;
  // The parameters declared here, taken from a fuller set (a step's params hold stream, toxicity).
  faultline::params own(const faultline::params& given) const;

  // An experiment's values, parsed and range-checked by the loader: validate, then make.
  // Throws param_error worded in experiment units.
  std::shared_ptr<const toxic_config> create(const faultline::params& given) const;
  // The control API's JSON attributes (null or an object); absent ones take their defaults,
  // unknown ones are ignored as Toxiproxy does. Throws attribute_error.
  std::shared_ptr<const toxic_config> parse(const nlohmann::json& attributes) const;
  // Toxiproxy's update: `changes` laid over the current settings. Throws attribute_error.
  std::shared_ptr<const toxic_config> merge(const toxic_config& current, const nlohmann::json& changes) const;
  // Settings as the control API writes them, in the order declared.
  nlohmann::ordered_json attributes(const faultline::params& settings) const;

  // Throws std::logic_error when the declaration breaks a rule every toxic keeps (a parameter
  // both required and defaulted, a number without a range, an API unit for another kind).
  void check() const;
};

// The factory of a config type constructed from `const params&`.
template <typename T>
toxic_factory made_of() {
  return [](const params& p) -> std::shared_ptr<const toxic_config> { return std::make_shared<const T>(p); };
}

// Parameters from name/value pairs, for the typed constructors tests and benches use.
params settings_of(std::initializer_list<std::pair<const char*, param_value>> values);

// Evidence wording: "1 chunk", "3 chunks"; "512 bytes", "1.2 MiB"; "24 connection directions"
// (the links a byte-level toxic acted on).
std::string plural(std::uint64_t n, const char* one, const char* many);
std::string bytes_text(std::uint64_t n);
std::string links_text(const toxic_stats& s);

}  // namespace faultline::proxy
