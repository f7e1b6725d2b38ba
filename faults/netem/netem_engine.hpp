#pragma once
// The netem engine: applies a network fault with the kernel's netem qdisc through libnl, records the
// device's qdisc tree first and puts it back exactly afterwards (or after a crash, from the record).

#include "faults/netem/network_engine.hpp"
#include "faults/netem/netem_messages.hpp"
#include "faults/netem/qdisc_tree.hpp"
#include "faults/netem/route_socket.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace faultline::faults::network {

class netem_engine : public network_engine {
public:
  // Loads the delay distribution table now, so a missing one fails before the run starts.
  explicit netem_engine(std::shared_ptr<const network_spec> spec);

  std::string name() const override { return "netem"; }
  boost::asio::awaitable<void> apply() override;
  boost::asio::awaitable<void> remove() override;
  evidence collect_evidence() const override;
  nlohmann::json undo_record() const override;

  // The same, synchronously (netlink requests take microseconds).
  void apply_now();
  void remove_now();

private:
  void record() const;  // the tree as it is before the fault; done once, by undo_record() or apply

  std::shared_ptr<const network_spec> spec_;
  std::vector<std::int16_t> distribution_;  // empty: uniform
  mutable std::optional<route_socket> sock_;
  mutable int ifindex_ = 0;
  mutable std::optional<qdisc_tree> before_;
  mutable netem_layout layout_;
  std::string installed_root_options_;   // hex, as the kernel reported them after install
  std::string installed_netem_options_;
  std::optional<qdisc_stats> root_before_;  // the original root's counters just before the fault
  std::optional<qdisc_stats> netem_after_;  // netem's counters just before removal
  bool applied_ = false;
  bool removed_ = false;
};

// Empty when this kernel can run netem; otherwise the capability message (kernel option, how to
// install the module, the userspace engine). Found once per process by creating a netem qdisc on
// the loopback device of a scratch network namespace that vanishes right after: nothing on the
// host changes (the kernel may load the sch_netem module, as tc would).
std::string netem_unavailable_reason();

// The capability message for a kernel without netem, given the kernel's answer.
std::string missing_netem_message(const std::string& kernel_answer);

// Undoes a netem undo_record() after a killed run: restores the recorded tree if the device's root
// is still faultline's; throws fault_error otherwise.
void undo_netem(const nlohmann::json& record);

engine_kind netem_engine_kind();

}  // namespace faultline::faults::network
