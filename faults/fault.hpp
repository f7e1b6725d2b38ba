#pragma once
// The fault contract: a named, typed, reversible change to the system under test that records
// evidence of its effect. Every fault family registers its types in one fault_registry.

#include "core/params.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::proxy {
class proxy_set;
}

namespace faultline::faults {

// What a fault step's `target` names.
enum class target_kind {
  none,     // no target
  proxy,    // a proxy declared in the experiment's `proxies`
  address,  // host:port
  device,   // a network interface (optionally in a namespace given by a parameter)
  process,  // a pid file or process name
};

const char* to_string(target_kind kind);

// Proof that a fault took effect, so a report can say "applied and observed".
struct evidence {
  bool observed = false;                              // the effect was seen, not just requested
  std::string summary;                                // one line: "412 chunks delayed by 800 ms"
  nlohmann::json details = nlohmann::json::object();  // counters and engine facts, snake_case
};

// Thrown by inject()/revert() when the system refuses the change; the message names the fix.
class fault_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Thrown when the environment lacks a capability (no sch_netem, not root); exit code 2.
class capability_error : public fault_error {
public:
  using fault_error::fault_error;
};

// What a fault may use while it runs. Owned by the runner (or the proxy daemon); outlives faults.
struct fault_context {
  boost::asio::any_io_executor executor;
  proxy::proxy_set* proxies = nullptr;  // proxies started for this run
  std::string target;                   // the step's target, already validated
  std::string step_name;                // for names of rules, chains and logs
};

class fault {
public:
  virtual ~fault() = default;

  // Checks, without changing anything, that inject() can work here (privileges, kernel support,
  // the target exists). Throws capability_error or fault_error naming the fix. Runs before the
  // experiment starts, so a run never fails half-way for a reason known up front.
  virtual void preflight() {}

  virtual boost::asio::awaitable<void> inject() = 0;
  virtual boost::asio::awaitable<void> revert() = 0;
  // What the fault did. Called after revert() (and after a failed inject), so a fault keeps its
  // counters (and reads kernel statistics before it removes them) to report them then.
  virtual evidence collect_evidence() const = 0;

  // What a crash recovery needs to undo this fault once the process is gone. Written to the state
  // file before inject(). Faults that change nothing outside this process return null.
  virtual nlohmann::json undo_record() const { return nullptr; }

  // The mechanism that ran, when a fault type has several ("netem", "userspace").
  virtual std::string engine() const { return {}; }
};

// Rejects combinations of otherwise valid parameters by throwing param_error; touches nothing.
using param_validator = std::function<void(const params&)>;
using fault_factory = std::function<std::unique_ptr<fault>(const params&, const fault_context&)>;
// Undoes what a killed run left behind, from its undo_record(). Throws fault_error on failure.
using undo_function = std::function<void(const nlohmann::json& record)>;

struct fault_type {
  std::string name;
  std::string summary;                 // one line for `faultline list`
  std::string family;                  // proxy, protocol, network, storm, process, cache, action
  target_kind target = target_kind::none;
  std::string protocol;                // required proxy protocol ("postgres", "redis"), if any
  bool action = false;                 // one-shot step: no duration, nothing to revert
  bool exclusive = false;              // overlapping steps on one target are an error
  bool destructive = false;            // destroys data; a step must say `destructive: true`
  std::string capability;              // the Linux capability inject() always needs ("CAP_NET_ADMIN"), if any;
                                       // checked before a run starts anything
  param_schema params;
  param_validator validate;            // optional
  fault_factory create;
  undo_function undo;                  // needed when undo_record() can be non-null
};

class fault_registry {
public:
  // Throws std::logic_error when the name is taken.
  void add(fault_type type);
  const fault_type* find(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::map<std::string, fault_type, std::less<>>& types() const { return types_; }

private:
  std::map<std::string, fault_type, std::less<>> types_;
};

// Registers every fault and action type faultline ships with.
void register_builtin_faults(fault_registry& registry);

}  // namespace faultline::faults
