#include "faults/protocol/message_toxic.hpp"

#include <fmt/format.h>

#include <cmath>

namespace faultline::protocol {

bool roll(double toxicity, std::mt19937_64& random) {
  if (toxicity >= 1.0) return true;
  if (toxicity <= 0.0) return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(random) < toxicity;
}

proxy::duration jittered(proxy::duration delay, proxy::duration jitter, std::mt19937_64& random) {
  if (jitter.count() <= 0) return delay;
  auto offset = std::uniform_int_distribution<proxy::duration::rep>(-jitter.count(), jitter.count())(random);
  auto d = delay + proxy::duration(offset);
  return d.count() < 0 ? proxy::duration(0) : d;
}

namespace {

const nlohmann::json* find(const nlohmann::json& attributes, const char* name) {
  if (!attributes.is_object()) return nullptr;
  auto it = attributes.find(name);
  if (it == attributes.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::string text_attribute(const nlohmann::json& attributes, const char* name, const std::string& fallback) {
  const auto* v = find(attributes, name);
  if (!v) return fallback;
  if (!v->is_string()) throw setting_error(name, fmt::format("attribute '{}' must be a string, got {}", name, v->dump()));
  return v->get<std::string>();
}

std::vector<std::string> list_attribute(const nlohmann::json& attributes, const char* name) {
  std::vector<std::string> out;
  const auto* v = find(attributes, name);
  if (!v) return out;
  auto bad = [&] { return setting_error(name, fmt::format("attribute '{}' must be a string or an array of strings, got {}", name, v->dump())); };
  if (v->is_string()) {
    auto text = v->get<std::string>();
    std::size_t start = 0;
    while (start <= text.size()) {
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
  if (!v->is_array()) throw bad();
  for (const auto& item : *v) {
    if (!item.is_string()) throw bad();
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::int64_t integer_attribute(const nlohmann::json& attributes, const char* name, std::int64_t fallback) {
  const auto* v = find(attributes, name);
  if (!v) return fallback;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_number_float() && v->get<double>() == std::floor(v->get<double>()) && std::abs(v->get<double>()) < 9e18)
    return static_cast<std::int64_t>(v->get<double>());
  throw setting_error(name, fmt::format("attribute '{}' must be a whole number, got {}", name, v->dump()));
}

proxy::duration millis_attribute(const nlohmann::json& attributes, const char* name) {
  const auto* v = find(attributes, name);
  if (!v) return proxy::duration(0);
  if (!v->is_number() || v->get<double>() < 0 || v->get<double>() > 1e12)
    throw setting_error(name, fmt::format("attribute '{}' must be a number of milliseconds (0 or more), got {}", name, v->dump()));
  if (v->is_number_integer()) return std::chrono::milliseconds(v->get<std::int64_t>());
  return std::chrono::duration_cast<proxy::duration>(std::chrono::duration<double, std::milli>(v->get<double>()));
}

bool flag_attribute(const nlohmann::json& attributes, const char* name, bool fallback) {
  const auto* v = find(attributes, name);
  if (!v) return fallback;
  if (!v->is_boolean()) throw setting_error(name, fmt::format("attribute '{}' must be true or false, got {}", name, v->dump()));
  return v->get<bool>();
}

nlohmann::ordered_json millis_json(proxy::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns % 1'000'000 == 0) return ns / 1'000'000;
  return static_cast<double>(ns) / 1e6;
}

}  // namespace faultline::protocol
