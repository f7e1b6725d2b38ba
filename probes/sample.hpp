#pragma once
// One measurement: when it was meant to start, when it did, how long it took from the intended
// start (no coordinated omission), and how it ended.

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace faultline::probes {

using clock = std::chrono::steady_clock;

// How a request or check ended. Error classes are what reports and the breaker analysis use.
enum class outcome : std::uint8_t {
  ok,
  connect_refused,
  reset,
  timeout,
  http_5xx,
  http_4xx,
  protocol_error,
  unexpected_value,
};
inline constexpr std::size_t outcome_count = 8;

std::string_view to_string(outcome o);
std::optional<outcome> outcome_from_string(std::string_view name);

// The outcome for a failed network operation (refused, reset, timeout, ...).
outcome outcome_of(const boost::system::error_code& ec);

struct sample {
  clock::time_point intended{};
  clock::time_point started{};
  std::chrono::nanoseconds latency{};  // from `intended` to completion
  outcome result = outcome::ok;
  std::optional<double> value;         // a probe's extracted value (metric, JSON pointer, stdout)
  bool fallback = false;               // the load's `fallback.header` matched: a fallback answered
};

// A sample that ends now: latency runs from `intended`.
inline sample finished(clock::time_point intended, clock::time_point started, outcome result,
                       std::optional<double> value = std::nullopt) {
  return {intended, started, clock::now() - intended, result, value};
}

}  // namespace faultline::probes
