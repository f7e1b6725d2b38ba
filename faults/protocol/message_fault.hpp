#pragma once
// Message-level toxics as experiment faults: inject() adds the toxic to the target proxy (whose
// protocol the loader already checked), revert() removes it, and the evidence says how many
// queries or commands the toxic saw, matched and acted on. `probability` is the toxic's
// toxicity, applied per message.

#include "faults/fault.hpp"
#include "faults/proxy/toxic.hpp"

#include <functional>
#include <memory>
#include <string>

namespace faultline::protocol {

struct message_fault_spec {
  std::string name;
  std::string summary;
  std::string protocol;  // "postgres" or "redis"
  std::string noun;      // what a message is called in evidence: "query", "command"
  param_schema schema;   // the toxic's own parameters; probability is added
  // Builds the toxic's settings; throws setting_error (reported as param_error by validate).
  std::function<std::shared_ptr<const proxy::toxic_config>(const params&)> make;
  // One line about what the toxic did, from its counters.
  std::function<std::string(const proxy::toxic_stats&)> describe;
  // Whether the counters show the effect (default: some message was affected).
  std::function<bool(const proxy::toxic_stats&)> observed;
};

faults::fault_type message_fault_type(message_fault_spec spec);

// "3 queries", "1 command"
std::string count_of(std::uint64_t n, const std::string& noun);

}  // namespace faultline::protocol
