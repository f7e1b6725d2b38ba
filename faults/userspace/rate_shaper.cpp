#include "faults/userspace/rate_shaper.hpp"

#include "faults/netem/netem_messages.hpp"
#include "faults/userspace/userspace_log.hpp"

#include <fmt/format.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/tbf.h>

#include <linux/pkt_sched.h>

#include <algorithm>
#include <climits>
#include <cmath>

namespace faultline::faults::userspace {
namespace {

using network::message_ptr;
using network::qdisc_tree;
using network::route_socket;

constexpr std::uint32_t frame_overhead = 18;  // Ethernet header and a VLAN tag

std::uint32_t link_mtu(route_socket& sock, int ifindex) {
  rtnl_link* link = nullptr;
  if (rtnl_link_get_kernel(sock.get(), ifindex, nullptr, &link) < 0 || !link) return 1500;
  auto mtu = rtnl_link_get_mtu(link);
  rtnl_link_put(link);
  return mtu ? mtu : 1500;
}

std::string label_of(const route_socket& sock, const std::string& device) { return device + network::netns_phrase(sock.netns()); }

template <typename Object, void (*Put)(Object*)>
struct libnl_object {
  Object* p;
  ~libnl_object() {
    if (p) Put(p);
  }
};
void put_qdisc(rtnl_qdisc* q) { rtnl_qdisc_put(q); }
void put_class(rtnl_class* c) { rtnl_class_put(c); }

message_ptr build_root_qdisc(const network::network_spec& spec, int ifindex, const shaper_settings& s) {
  libnl_object<rtnl_qdisc, put_qdisc> q{rtnl_qdisc_alloc()};
  if (!q.p) throw fault_error("network: out of memory for a qdisc");
  rtnl_tc_set_ifindex(TC_CAST(q.p), ifindex);
  rtnl_tc_set_parent(TC_CAST(q.p), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(q.p), s.root_handle);
  if (s.scoped) {
    if (rtnl_tc_set_kind(TC_CAST(q.p), "htb") < 0) throw fault_error("network: libnl does not know htb");
    rtnl_htb_set_defcls(q.p, 0);  // unclassified packets leave through the direct queue, unshaped
  } else {
    if (rtnl_tc_set_kind(TC_CAST(q.p), "tbf") < 0) throw fault_error("network: libnl does not know tbf");
    rtnl_qdisc_tbf_set_limit(q.p, static_cast<int>(s.queue_bytes));
    rtnl_qdisc_tbf_set_rate(q.p, static_cast<int>(std::llround(*spec.rate)), static_cast<int>(s.burst), 0);
  }
  nl_msg* msg = nullptr;
  if (int rc = rtnl_qdisc_build_add_request(q.p, NLM_F_CREATE | NLM_F_REPLACE, &msg); rc < 0)
    throw fault_error(fmt::format("network: cannot build the {} request: {}", s.scoped ? "htb" : "tbf", nl_geterror(rc)));
  return message_ptr(msg);
}

message_ptr build_rate_class(const network::network_spec& spec, int ifindex, const shaper_settings& s) {
  libnl_object<rtnl_class, put_class> c{rtnl_class_alloc()};
  if (!c.p) throw fault_error("network: out of memory for a class");
  rtnl_tc_set_ifindex(TC_CAST(c.p), ifindex);
  rtnl_tc_set_parent(TC_CAST(c.p), s.root_handle);
  rtnl_tc_set_handle(TC_CAST(c.p), s.root_handle | 1);
  if (rtnl_tc_set_kind(TC_CAST(c.p), "htb") < 0) throw fault_error("network: libnl does not know htb");
  const auto rate = static_cast<std::uint64_t>(std::llround(*spec.rate));
  rtnl_htb_set_rate64(c.p, rate);
  rtnl_htb_set_ceil64(c.p, rate);
  rtnl_htb_set_rbuffer(c.p, s.burst);
  rtnl_htb_set_cbuffer(c.p, s.burst);
  rtnl_htb_set_quantum(c.p, std::clamp<std::uint32_t>(static_cast<std::uint32_t>(std::min<std::uint64_t>(rate / 10, 200000)),
                                                      s.mtu + frame_overhead, 200000));
  nl_msg* msg = nullptr;
  if (int rc = rtnl_class_build_add_request(c.p, NLM_F_CREATE | NLM_F_EXCL, &msg); rc < 0)
    throw fault_error(fmt::format("network: cannot build the htb class request: {}", nl_geterror(rc)));
  return message_ptr(msg);
}

struct restore_facts {
  std::string device;
  std::uint32_t root_handle = 0;
  std::string kind;  // "tbf" or "htb"
};

// Puts `before` back when the device's root is still the qdisc faultline installed. Returns the
// shaping counters read just before.
std::optional<network::qdisc_stats> restore_tree(route_socket& sock, int ifindex, const qdisc_tree& before, const restore_facts& f) {
  auto current = network::read_qdisc_tree(sock, ifindex);
  if (network::tree_differences(before, current).empty()) return std::nullopt;
  const auto* root = current.root();
  if (!root || root->handle() != f.root_handle || root->type() != f.kind)
    throw fault_error(fmt::format("network: the root qdisc of {} changed since faultline added its {} {} (found {}); faultline leaves "
                                  "the device alone. Inspect it with `tc qdisc show dev {}` and restore it by hand",
                                  label_of(sock, f.device), f.kind, network::handle_text(f.root_handle),
                                  root ? root->label() : "no root qdisc", f.device));
  std::optional<network::qdisc_stats> stats = root->stats();
  if (f.kind == "htb")
    for (const auto& o : current.objects())
      if (o.kind() == network::tc_kind::tclass && o.handle() == (f.root_handle | 1)) stats = o.stats();
  std::vector<std::string> refused;
  for (auto& step : network::build_replay(before, ifindex, root->handle())) {
    try {
      sock.request(step.message.get(), step.what + " on " + label_of(sock, f.device));
    } catch (const network::netlink_error& e) {
      refused.push_back(e.what());  // the comparison below decides whether it mattered
    }
  }
  auto after = network::read_qdisc_tree(sock, ifindex);
  if (auto diff = network::tree_differences(before, after); !diff.empty()) {
    std::string lines;
    for (const auto& d : diff) lines += "\n  " + d;
    for (const auto& r : refused) lines += "\n  (" + r + ")";
    throw fault_error(fmt::format("network: restored the qdisc tree of {} but it differs from the recorded one:{}",
                                  label_of(sock, f.device), lines));
  }
  userspace_log()->info("{}: qdisc tree restored exactly ({} objects)", label_of(sock, f.device), before.objects().size());
  return stats;
}

}  // namespace

shaper_settings plan_shaper(const network::network_spec& spec, std::uint32_t mtu, const std::vector<std::uint32_t>& taken_majors) {
  shaper_settings s;
  s.scoped = !spec.scope.all_traffic();
  s.mtu = mtu;
  std::uint32_t major = network::first_faultline_major;
  while (std::find(taken_majors.begin(), taken_majors.end(), major) != taken_majors.end()) ++major;
  s.root_handle = major << 16;
  const double rate = spec.rate.value_or(0);
  const auto frame = mtu + frame_overhead;
  s.burst = static_cast<std::uint32_t>(std::max<double>(2.0 * frame, std::min<double>(rate / 1000.0, 64.0 * 1024 * 1024)));
  s.queue_bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{spec.limit} * frame, INT_MAX));
  return s;
}

rate_shaper::rate_shaper(std::shared_ptr<const network::network_spec> spec) : spec_(std::move(spec)) {}

nlohmann::json rate_shaper::record() {
  if (!before_) {
    if (*spec_->rate > static_cast<double>(INT_MAX) && spec_->scope.all_traffic())
      throw fault_error(fmt::format("network: rate {:g} bytes/s is more than tbf takes (about 17 Gbit/s); lower 'rate'", *spec_->rate));
    sock_.emplace(spec_->netns);
    ifindex_ = sock_->ifindex(spec_->device);
    if (ifindex_ == 0)
      throw fault_error(fmt::format("network: device '{}' not found{} (see `ip link show`)", spec_->device,
                                    network::netns_phrase(spec_->netns)));
    auto tree = network::read_qdisc_tree(*sock_, ifindex_);
    if (auto why = network::unrestorable_reason(tree); !why.empty())
      throw fault_error(fmt::format("network: faultline could not restore the qdisc tree of {} exactly afterwards, so it does not "
                                    "rate-limit it: {}. Remove that part of the tree, or drop 'rate'",
                                    label_of(*sock_, spec_->device), why));
    settings_ = plan_shaper(*spec_, link_mtu(*sock_, ifindex_), tree.majors());
    before_ = std::move(tree);
  }
  return {{"device", spec_->device},
          {"netns", spec_->netns},
          {"kind", settings_.scoped ? "htb" : "tbf"},
          {"root_handle", settings_.root_handle},
          {"root", network::handle_text(settings_.root_handle)},
          {"previous_tree", before_->to_json()}};
}

void rate_shaper::apply() {
  record();
  const auto dev = label_of(*sock_, spec_->device);
  std::vector<std::pair<message_ptr, std::string>> steps;
  steps.emplace_back(build_root_qdisc(*spec_, ifindex_, settings_),
                     fmt::format("adding {} {} as the root qdisc of {}", settings_.scoped ? "htb" : "tbf",
                                 network::handle_text(settings_.root_handle), dev));
  if (settings_.scoped) {
    steps.emplace_back(build_rate_class(*spec_, ifindex_, settings_),
                       fmt::format("adding the rate class {} on {}", network::handle_text(settings_.root_handle | 1), dev));
    int n = 0;
    for (auto& f : network::build_scope_filters(*spec_, ifindex_, settings_.root_handle, settings_.root_handle | 1))
      steps.emplace_back(std::move(f), fmt::format("adding u32 filter {} on {}", ++n, dev));
  }
  bool changed = false;
  try {
    for (auto& [msg, what] : steps) {
      sock_->request(msg.get(), what);
      changed = true;
    }
  } catch (const fault_error& e) {
    if (!changed) throw;
    try {
      restore_tree(*sock_, ifindex_, *before_, {spec_->device, settings_.root_handle, settings_.scoped ? "htb" : "tbf"});
    } catch (const std::exception& undo) {
      throw fault_error(fmt::format("{}; and putting the previous qdisc tree back failed too: {}", e.what(), undo.what()));
    }
    throw;
  }
  applied_ = true;
  userspace_log()->info("{}: rate limited to {:g} kbit/s ({} {})", dev, *spec_->rate * 8 / 1000, settings_.scoped ? "htb" : "tbf",
                 network::handle_text(settings_.root_handle));
}

void rate_shaper::remove() {
  if (!applied_ || removed_) return;
  final_stats_ = restore_tree(*sock_, ifindex_, *before_, {spec_->device, settings_.root_handle, settings_.scoped ? "htb" : "tbf"});
  removed_ = true;
}

nlohmann::json rate_shaper::evidence() const {
  nlohmann::json j{{"kind", settings_.scoped ? "htb" : "tbf"},
                   {"root", network::handle_text(settings_.root_handle)},
                   {"rate_bytes_per_second", spec_->rate.value_or(0)},
                   {"burst_bytes", settings_.burst},
                   {"tree_restored", removed_}};
  auto stats = final_stats_;
  if (applied_ && !removed_) {
    try {
      auto now = network::read_qdisc_tree(*sock_, ifindex_);
      for (const auto& o : now.objects()) {
        if (settings_.scoped ? (o.kind() == network::tc_kind::tclass && o.handle() == (settings_.root_handle | 1))
                             : (o.kind() == network::tc_kind::qdisc && o.handle() == settings_.root_handle))
          stats = o.stats();
      }
    } catch (const std::exception& e) {
      j["read_error"] = e.what();
    }
  }
  if (stats) j["stats"] = stats->to_json();
  return j;
}

void rate_shaper::undo(const nlohmann::json& record) {
  try {
    const auto device = record.at("device").get<std::string>();
    const auto netns = record.value("netns", std::string());
    const auto before = qdisc_tree::from_json(record.at("previous_tree"));
    restore_facts facts{device, record.at("root_handle").get<std::uint32_t>(), record.at("kind").get<std::string>()};
    route_socket sock(netns);
    const int ifindex = sock.ifindex(device);
    if (ifindex == 0) {
      userspace_log()->info("{}{}: device is gone; no qdisc to restore", device, network::netns_phrase(netns));
      return;
    }
    restore_tree(sock, ifindex, before, facts);
  } catch (const nlohmann::json::exception& e) {
    throw fault_error(fmt::format("network: the userspace engine's rate record is malformed: {}", e.what()));
  }
}

}  // namespace faultline::faults::userspace
