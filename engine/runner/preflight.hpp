#pragma once
// What a run checks and prepares before it changes anything in the system under test: faults left
// by a killed run, the proxies, every step's fault (made and asked whether it can work here), and
// the proxies' upstreams. A problem found here stops the run before it starts (exit 2).

#include "engine/experiment.hpp"
#include "engine/state_file.hpp"
#include "faults/fault.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace faultline::proxy {
class proxy_set;
}

namespace faultline::engine {

// A problem found before anything started (exit 2).
class preflight_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

using log_line = std::function<void(const std::string& line)>;

// Checks that this process holds every capability the experiment's fault types need (network
// faults: CAP_NET_ADMIN) without touching anything; throws capability_error naming the step, the
// capability and the fix. Runs first, so an ordinary user learns it before anything starts.
void check_privileges(const experiment& x);

// Undoes what a killed run left in the state file; throws preflight_error when something cannot
// be undone or the state file cannot be used.
void undo_leftovers(state_file& state, const faults::fault_registry& registry, const log_line& log);

// Starts the experiment's proxies (none: null).
std::unique_ptr<proxy::proxy_set> start_proxies(const experiment& x, const log_line& log);

// One fault per step, in order, made from the step's type and checked by its preflight().
// Throws preflight_error, or capability_error (exit 2 either way) naming the step.
std::vector<std::unique_ptr<faults::fault>> prepare_faults(const experiment& x, const faults::fault_context& base,
                                                           bool interactive);

// Connects to each proxy's upstream (at most 3 s each); throws preflight_error naming the one that
// does not answer.
boost::asio::awaitable<void> check_upstreams(const experiment& x);

}  // namespace faultline::engine
