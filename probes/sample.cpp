#include "probes/sample.hpp"

#include <array>

namespace faultline::probes {
namespace {
constexpr std::array<std::string_view, outcome_count> outcome_names{
    "ok", "connect_refused", "reset", "timeout", "http_5xx", "http_4xx", "protocol_error", "unexpected_value"};
}

std::string_view to_string(outcome o) { return outcome_names[static_cast<std::size_t>(o)]; }

std::optional<outcome> outcome_from_string(std::string_view name) {
  for (std::size_t i = 0; i < outcome_names.size(); ++i)
    if (outcome_names[i] == name) return static_cast<outcome>(i);
  return std::nullopt;
}

}  // namespace faultline::probes
