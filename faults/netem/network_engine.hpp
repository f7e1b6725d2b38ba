#pragma once
// What an engine that applies a `network` fault provides (netem in the kernel, the userspace NFQUEUE
// engine), and how an engine presents itself to the fault that chooses between them.

#include "faults/fault.hpp"
#include "faults/netem/network_spec.hpp"
#include "faults/netem/route_socket.hpp"

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

namespace faultline::faults::network {

// One applied network fault. Created by an engine_kind for one spec; apply() once, remove() once.
class network_engine {
public:
  virtual ~network_engine() = default;

  virtual std::string name() const = 0;  // "netem", "userspace"
  virtual boost::asio::awaitable<void> apply() = 0;
  virtual boost::asio::awaitable<void> remove() = 0;
  virtual evidence collect_evidence() const = 0;
  // Written to the state file before apply(); carries "engine": name() so recovery finds the engine.
  virtual nlohmann::json undo_record() const = 0;
};

using engine_factory =
    std::function<std::unique_ptr<network_engine>(std::shared_ptr<const network_spec>, const fault_context&)>;

// "eth0" or "veth0 in netns a": the spec's device, for messages and logs.
std::string device_label(const network_spec& spec);

// The index of the spec's device in `sock`'s namespace, checked as every engine needs before it
// touches the device: the device exists, and it does not carry the default route unless the spec
// allows it. Throws fault_error naming the fix.
int checked_device(route_socket& sock, const network_spec& spec);

// An engine as the `network` fault type sees it.
struct engine_kind {
  std::string name;
  // Empty when the engine can run on this host; otherwise why not and how to fix it, ready for a
  // capability_error. Must not change the system; may be cached.
  std::function<std::string()> unavailable_reason;
  engine_factory create;
  undo_function undo;  // from an undo_record() of this engine, after a killed run
};

}  // namespace faultline::faults::network
