#pragma once
// Toxiproxy's attribute units (ms, us, KB/s with KB = 1000 bytes) for the control API: whole
// values render as JSON integers like Toxiproxy's, finer ones as fractions.

#include "faults/proxy/time.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>

namespace faultline::proxy {

inline nlohmann::ordered_json json_number(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9.0e15)
    return static_cast<std::int64_t>(value);
  return value;
}

inline nlohmann::ordered_json as_millis(duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns % 1000000 == 0) return ns / 1000000;
  return static_cast<double>(ns) / 1e6;
}

inline nlohmann::ordered_json as_micros(duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns % 1000 == 0) return ns / 1000;
  return static_cast<double>(ns) / 1e3;
}

}  // namespace faultline::proxy
