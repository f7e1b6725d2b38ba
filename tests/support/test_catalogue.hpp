#pragma once
// A fixed catalogue of fault and probe types for loader tests, so their expected messages do not
// change when faultline gains new fault types.

#include "engine/loader.hpp"
#include "faults/fault.hpp"
#include "probes/probe.hpp"

namespace faultline::test {

const faults::fault_registry& test_faults();
const probes::probe_registry& test_probes();
engine::catalogue test_catalogue();

// The real catalogue, as `faultline` builds it.
engine::catalogue builtin_catalogue();

}  // namespace faultline::test
