#include "faults/process/process_target.hpp"

#include "faults/fault.hpp"

namespace faultline::process {

process_ref resolve_process(const std::string& target) {
  try {
    return find_process(target);
  } catch (const process_lookup_error& e) {
    throw faults::fault_error(e.what());
  }
}

}  // namespace faultline::process
