#pragma once
// What the PostgreSQL and Redis toxics share: a settings error that names the setting (mapped to
// param_error for experiments and to a 400 for the control API), the per-message toxicity roll,
// and readers for their JSON attributes.

#include "faults/proxy/protocol.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace faultline::protocol {

// A setting a toxic cannot work with; setting() is its parameter or attribute name.
class setting_error : public std::runtime_error {
public:
  setting_error(std::string setting, const std::string& message) : std::runtime_error(message), setting_(std::move(setting)) {}
  const std::string& setting() const noexcept { return setting_; }

private:
  std::string setting_;
};

// Toxicity applied to one message, as the link applies it to one connection: 1 always, 0 never
// (and without drawing).
bool roll(double toxicity, std::mt19937_64& random);

// A duration with jitter: uniform in [delay - jitter, delay + jitter], never below 0.
proxy::duration jittered(proxy::duration delay, proxy::duration jitter, std::mt19937_64& random);

// Attribute readers for the control API; they throw setting_error naming the attribute.
std::string text_attribute(const nlohmann::json& attributes, const char* name, const std::string& fallback);
// A JSON array of strings, or one string with comma-separated items; empty when absent.
std::vector<std::string> list_attribute(const nlohmann::json& attributes, const char* name);
// Milliseconds, 0 or more (fractions allowed: 0.5 is 500 us).
proxy::duration millis_attribute(const nlohmann::json& attributes, const char* name);
bool flag_attribute(const nlohmann::json& attributes, const char* name, bool fallback);
std::int64_t integer_attribute(const nlohmann::json& attributes, const char* name, std::int64_t fallback);

// Durations as the control API shows them (whole milliseconds when exact).
nlohmann::ordered_json millis_json(proxy::duration d);

}  // namespace faultline::protocol
