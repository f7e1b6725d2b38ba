#pragma once
// A device's egress traffic-control tree (root qdisc, its classes, child qdiscs and filters) as the
// kernel dumped it, kept as raw netlink messages so it can be replayed exactly, compared after a
// restore, and written to the run's state file.

#include "faults/netem/route_socket.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faultline::faults::network {

enum class tc_kind { qdisc, tclass, filter };

// Counters of one qdisc (TCA_STATS2).
struct qdisc_stats {
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;
  std::uint64_t drops = 0;
  std::uint64_t overlimits = 0;
  std::uint64_t requeues = 0;
  std::uint64_t backlog = 0;  // bytes queued
  std::uint64_t qlen = 0;     // packets queued
  nlohmann::json to_json() const;
};

// One qdisc, class or filter message from a dump.
class tc_object {
public:
  tc_object(tc_kind kind, raw_message message);

  tc_kind kind() const { return kind_; }
  std::uint32_t handle() const;
  std::uint32_t parent() const;
  std::uint32_t info() const;  // filters: preference << 16 | protocol
  std::string type() const;    // "htb", "netem", "u32"
  std::optional<std::uint32_t> chain() const;
  bool has_attribute(int type) const;
  // The options as configuration: counters inside options (u32 hit counts, htb direct_pkts) zeroed.
  std::vector<std::uint8_t> options() const;
  std::optional<qdisc_stats> stats() const;
  const raw_message& message() const { return message_; }

  // One line that is equal for two objects exactly when their configuration is: what "restored
  // exactly" compares. "qdisc htb 1: parent root options 0a00..."
  std::string canonical() const;
  // Short, for messages: "qdisc htb 1: parent root".
  std::string label() const;

private:
  tc_kind kind_;
  raw_message message_;
};

class qdisc_tree {
public:
  qdisc_tree() = default;
  explicit qdisc_tree(std::vector<tc_object> objects) : objects_(std::move(objects)) {}

  const std::vector<tc_object>& objects() const { return objects_; }
  const tc_object* root() const;
  const tc_object* qdisc(std::uint32_t handle) const;
  // The kernel's own default (handle 0: noqueue, pfifo_fast, mq, fq_codel): deleting any root
  // qdisc brings it back.
  bool default_root() const;
  std::vector<std::uint32_t> majors() const;  // qdisc handle majors in use
  std::vector<std::string> canonical() const;  // sorted

  nlohmann::json to_json() const;
  static qdisc_tree from_json(const nlohmann::json& j);  // throws fault_error

private:
  std::vector<tc_object> objects_;
};

// Dumps the egress tree of a device (ingress and clsact and their filters are not part of it).
qdisc_tree read_qdisc_tree(route_socket& sock, int ifindex);

// What differs between two trees, as "missing: ..." / "unexpected: ..." lines; empty when equal.
std::vector<std::string> tree_differences(const qdisc_tree& expected, const qdisc_tree& actual);

// Why faultline could not put this tree back exactly (filters with actions, size tables, filter
// kinds other than u32); empty when it can.
std::string unrestorable_reason(const qdisc_tree& tree);

// The requests that rebuild `tree` on a device whose root is some other qdisc, in order: the root
// replaced (or deleted, for a default root), then classes and qdiscs parents first, then filters
// (u32 instances in the order of their root hash tables, so knode handles come out the same).
struct replay_step {
  message_ptr message;
  std::string what;
};
std::vector<replay_step> build_replay(const qdisc_tree& tree, int ifindex, std::uint32_t current_root_handle);

std::string hex(const std::vector<std::uint8_t>& bytes);
std::vector<std::uint8_t> unhex(const std::string& text);  // throws fault_error

}  // namespace faultline::faults::network
