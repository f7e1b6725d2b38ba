#pragma once
// The userspace engine for the `network` fault, for kernels without sch_netem: packets arriving
// through the device into its namespace (mangle INPUT, or FORWARD when the namespace routes them)
// and matching the scope go to an NFQUEUE queue, where faultline's packet loop delays, drops,
// duplicates, corrupts and reorders them the way netem would; `rate` is a tbf on the device.

#include "faults/netem/network_engine.hpp"
#include "faults/userspace/firewall_rules.hpp"
#include "faults/userspace/packet_loop.hpp"
#include "faults/userspace/rate_shaper.hpp"

#include <memory>
#include <optional>
#include <string>

namespace faultline::faults::userspace {

// The mark on duplicates faultline sends itself, so its own rules let them pass.
inline constexpr std::uint32_t copy_mark = 0xfa17fa17;

// How the engine runs, apart from what the fault asks for (the benchmark compares these).
struct userspace_options {
  int realtime_priority = 10;  // SCHED_FIFO priority of the packet loop; 0: normal scheduling
};

class userspace_engine : public network::network_engine {
public:
  userspace_engine(std::shared_ptr<const network::network_spec> spec, std::string step, userspace_options options = {});
  ~userspace_engine() override;  // removes the fault if still applied (best effort)

  std::string name() const override { return "userspace"; }
  boost::asio::awaitable<void> apply() override;
  boost::asio::awaitable<void> remove() override;
  evidence collect_evidence() const override;
  nlohmann::json undo_record() const override;

  // The same, synchronously (each takes a few iptables runs: tens of milliseconds).
  void apply_now();
  void remove_now();

  const firewall_plan& plan() const;
  packet_stats packet_statistics() const;

private:
  void prepare() const;  // everything decided before anything changes; done once
  bool needs_packet_path() const;

  std::shared_ptr<const network::network_spec> spec_;
  std::string step_;
  userspace_options options_;
  mutable std::optional<firewall_plan> plan_;
  mutable std::vector<std::uint16_t> candidates_;
  mutable std::optional<rate_shaper> shaper_;
  mutable nlohmann::json shaper_record_;
  std::unique_ptr<packet_loop> loop_;
  bool applied_ = false;
  bool removed_ = false;
};

// Empty when this host can run the userspace engine; otherwise what is missing and the fix.
// Checked once per process, in a scratch network namespace (nothing on the host changes).
std::string userspace_unavailable_reason();

// Undoes a userspace undo_record() after a killed run: the jumps and the chain by name, the
// tables iptables created for them, the tbf. (The kernel dropped the queue with the process.)
void undo_userspace(const nlohmann::json& record);

network::engine_kind userspace_engine_kind();

}  // namespace faultline::faults::userspace
