// libFuzzer target for the experiment loader (engine/loader.cpp): parse_experiment, which
// load_experiment, `validate`, `run` and `report` call with a file's text, on arbitrary bytes,
// with the real catalogue of fault and probe types; then the summary and plan `validate` and
// `run --dry-run` print. Checks, besides "no crash, leak or sanitizer report": bad input is a
// config_error (exit 2), never another exception (which the CLI reports as an internal error).
// Build and run: scripts/fuzz.sh --target experiment (docs/testing.md).

#include "engine/loader.hpp"
#include "engine/plan.hpp"
#include "faults/fault.hpp"
#include "probes/probe.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

namespace {

const faultline::engine::catalogue& builtin_catalogue() {
  static const auto faults = [] {
    faultline::faults::fault_registry r;
    faultline::faults::register_builtin_faults(r);
    return r;
  }();
  static const auto probes = [] {
    faultline::probes::probe_registry r;
    faultline::probes::register_builtin_probes(r);
    return r;
  }();
  static const faultline::engine::catalogue known{faults, probes};
  return known;
}

// --var values only: the environment would make a run depend on the machine.
const faultline::engine::variables& fuzz_variables() {
  static const faultline::engine::variables vars{{{"HOST", "127.0.0.1"}, {"PORT", "8080"}, {"RATE", "100/s"}}, false};
  return vars;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  try {
    auto x = faultline::engine::parse_experiment(yaml, "fuzz.yaml", builtin_catalogue(), fuzz_variables());
    (void)faultline::engine::describe_summary(x);
    (void)faultline::engine::render_plan(x);
  } catch (const faultline::engine::config_error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "experiment_fuzz: the loader threw %s instead of a config_error: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
  return 0;
}
