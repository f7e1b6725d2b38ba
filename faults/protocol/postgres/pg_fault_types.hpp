#pragma once
// pg_delay, pg_error, pg_drop and pg_refuse as experiment fault types: typed parameters, a
// validate that compiles the match (a bad regex is a param_error at its position), and
// factories whose faults add the toxic to a `protocol: postgres` proxy.

#include "faults/fault.hpp"

#include <vector>

namespace faultline::protocol::postgres {

std::vector<faults::fault_type> postgres_fault_types();

}  // namespace faultline::protocol::postgres
