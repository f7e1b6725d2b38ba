#pragma once
// The netfilter half of the userspace engine: in the fault's network namespace, a chain of
// faultline's own (FAULTLINE-<id>) in the mangle table of each IP family whose rules send the
// scoped packets to an NFQUEUE queue (`--queue-bypass`: with no reader they pass), jumped to from
// mangle INPUT and FORWARD for packets arriving through the device. Installed and removed with
// iptables-restore (one transaction per family), by name, through fork/exec; no shell.

#include "faults/netem/network_spec.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faultline::faults::userspace {

// The base chains faultline jumps from: packets delivered to the namespace, and packets it routes.
inline const std::vector<std::string> hook_chains = {"INPUT", "FORWARD"};
inline constexpr const char* rules_table = "mangle";

// One IP family's rules, each as iptables arguments after "-A <chain>".
struct family_rules {
  int family = 0;  // AF_INET or AF_INET6
  std::vector<std::vector<std::string>> queue_rules;  // in the chain of our own
  std::vector<std::vector<std::string>> jumps;        // one per hook chain, same order

  // What existed before faultline touched the table (nf_tables backend), so removal can take away
  // the table and base chains iptables created for it and leave the ruleset as it was.
  bool table_existed = true;
  std::vector<std::string> base_chains_before;
};

struct firewall_plan {
  std::string netns;
  std::string device;
  std::string chain;    // FAULTLINE-<id>, at most 28 characters
  std::string comment;  // on the jumps: "faultline step <name>"
  std::uint16_t queue = 0;
  std::vector<family_rules> families;

  nlohmann::json to_json() const;
  static firewall_plan from_json(const nlohmann::json& j);  // throws fault_error
};

// The rules for a spec (pure: tests check them without a kernel). `copy_mark`: packets carrying
// it (faultline's own duplicates) return from the chain untouched. `families`: which of AF_INET
// and AF_INET6 the host can filter.
firewall_plan plan_firewall(const network::network_spec& spec, const std::string& chain, const std::string& step,
                            std::uint16_t queue, std::optional<std::uint32_t> copy_mark, const std::vector<int>& families);

// The text iptables-restore --noflush reads to install / remove a family's rules.
std::string install_script(const firewall_plan& plan, const family_rules& rules);
std::string removal_script(const firewall_plan& plan, const family_rules& rules);

// A chain name unique to this process and call: FAULTLINE-<pid hex>-<n>.
std::string unique_chain_name();

// Queue numbers to try, from 0xfa17 up, skipping those the namespace's rules already name.
std::vector<std::uint16_t> candidate_queues(const std::string& netns, std::size_t count = 16);

// Fills in table_existed and base_chains_before (nf_tables backend; unchanged for legacy).
void note_tables_before(firewall_plan& plan);

// Installs every family's rules; on failure removes what was installed and throws fault_error.
void install_firewall(const firewall_plan& plan);

// Removes the jumps, the chain and what iptables created for them, by name. Tolerates parts that
// are already gone (after a crash, or a half install). Throws fault_error listing what is left.
void remove_firewall(const firewall_plan& plan);

// remove_firewall in two halves, for a queue that still holds packets. Removing the jumps and the
// chain stops new packets; deleting a base chain unregisters a netfilter hook, and the kernel then
// drops every packet queued in the namespace (nf_queue_nf_hook_drop). So: remove_queue_rules,
// give the held packets their verdicts, then remove_created_tables.
void remove_queue_rules(const firewall_plan& plan);  // throws fault_error listing what is left
void remove_created_tables(const firewall_plan& plan);

// True when the plan's chain exists in any family (for messages and tests).
bool firewall_present(const firewall_plan& plan);

// Empty when iptables can run here; otherwise what is missing and how to fix it.
std::string firewall_unavailable_reason();

}  // namespace faultline::faults::userspace
