#pragma once
// Loads experiments and suites from YAML into the model, checking everything that can be checked
// without touching the system: keys, types, units, references, overlaps. All problems are
// collected and thrown together as one config_error.

#include "engine/config_error.hpp"
#include "engine/experiment.hpp"
#include "engine/yaml_reader.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace faultline::faults {
class fault_registry;
}
namespace faultline::probes {
class probe_registry;
}

namespace faultline::engine {

// The fault and probe types an experiment may name.
struct catalogue {
  const faults::fault_registry& faults;
  const probes::probe_registry& probes;
};

experiment load_experiment(const std::filesystem::path& file, const catalogue& known, const variables& vars);
// `label` is the file name used in positions.
experiment parse_experiment(const std::string& yaml, const std::string& label, const catalogue& known,
                            const variables& vars);

// True when the file is a suite (it has a top-level `suite:` key).
bool is_suite_file(const std::filesystem::path& file);
suite load_suite(const std::filesystem::path& file);

// Expands command-line inputs into experiment files in run order: a directory gives its *.yaml and
// *.yml files that are not suites, sorted by name; a suite gives its list; a file gives itself.
// Missing paths are a config_error.
std::vector<std::filesystem::path> expand_inputs(const std::vector<std::filesystem::path>& inputs);

}  // namespace faultline::engine
