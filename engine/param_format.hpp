#pragma once
// Writes parameter values back the way people write them ("800ms", "10%", "64KiB").

#include "probes/params.hpp"

#include <string>

namespace faultline::engine {

std::string format_param(param_kind kind, const param_value& value);
// "latency 800ms, jitter 100ms" for the parameters that differ from their defaults.
std::string format_params(const param_schema& schema, const params& values);

}  // namespace faultline::engine
