#include "faults/netem/netem_engine.hpp"

#include "core/log.hpp"
#include "faults/netem/distribution_table.hpp"

#include <fmt/format.h>

#include <linux/pkt_sched.h>

#include <cerrno>
#include <mutex>

namespace faultline::faults::network {
namespace {

const std::shared_ptr<spdlog::logger>& netem_log() {
  static const auto log = logger("netem");
  return log;
}

std::string options_hex(const tc_object* o) { return o ? hex(o->options()) : std::string(); }

struct installed_fingerprint {
  std::string root_options;   // empty: unknown (crash before the record was updated)
  std::string netem_options;
};

// Puts `before` back if the device's root is still the one faultline installed. Returns netem's
// counters as they were just before removal.
std::optional<qdisc_stats> restore_device(route_socket& sock, int ifindex, const std::string& dev, const netem_layout& layout,
                                          const qdisc_tree& before, const installed_fingerprint& installed) {
  auto current = read_qdisc_tree(sock, ifindex);
  if (tree_differences(before, current).empty()) {
    netem_log()->info("{}: qdisc tree already as before the fault; nothing to restore", dev);
    return std::nullopt;
  }
  const auto* root = current.root();
  const std::string expected_kind = layout.scoped ? "prio" : "netem";
  const auto* netem = current.qdisc(layout.netem_handle);
  bool ours = root && root->handle() == layout.root_handle && root->type() == expected_kind;
  if (ours && !installed.root_options.empty()) {
    ours = options_hex(root) == installed.root_options &&
           (!layout.scoped || (netem && netem->type() == "netem" && options_hex(netem) == installed.netem_options));
  }
  if (!ours) {
    std::string before_text;
    for (const auto& o : before.objects())
      if (o.kind() == tc_kind::qdisc) before_text += (before_text.empty() ? "" : "; ") + o.label();
    throw fault_error(fmt::format(
        "network: the root qdisc of {} changed since faultline injected the fault (found {}, faultline installed {} {} with the "
        "options it recorded); faultline leaves the device alone. Inspect it with `tc qdisc show dev {}` and restore it by hand "
        "(before the fault: {})",
        dev, root ? root->label() : "no root qdisc", expected_kind, handle_text(layout.root_handle),
        dev.substr(0, dev.find(' ')), before_text.empty() ? "the kernel's default" : before_text));
  }
  std::optional<qdisc_stats> stats;
  if (netem) stats = netem->stats();

  for (auto& step : build_replay(before, ifindex, root->handle())) sock.request(step.message.get(), step.what + " on " + dev);
  auto after = read_qdisc_tree(sock, ifindex);
  if (auto diff = tree_differences(before, after); !diff.empty()) {
    std::string lines;
    for (const auto& d : diff) lines += "\n  " + d;
    throw fault_error(fmt::format("network: restored the qdisc tree of {} but it differs from the recorded one:{}", dev, lines));
  }
  netem_log()->info("{}: qdisc tree restored exactly ({} objects)", dev, before.objects().size());
  return stats;
}

netem_layout layout_from_json(const nlohmann::json& j) {
  netem_layout l;
  l.scoped = j.at("scoped").get<bool>();
  l.root_handle = j.at("root_handle").get<std::uint32_t>();
  l.netem_handle = j.at("netem_handle").get<std::uint32_t>();
  l.netem_parent = j.at("netem_parent").get<std::uint32_t>();
  return l;
}

nlohmann::json layout_to_json(const netem_layout& l) {
  return {{"scoped", l.scoped},
          {"root_handle", l.root_handle},
          {"netem_handle", l.netem_handle},
          {"netem_parent", l.netem_parent},
          {"root", handle_text(l.root_handle)},
          {"netem", handle_text(l.netem_handle)}};
}

}  // namespace

netem_engine::netem_engine(std::shared_ptr<const network_spec> spec)
    : spec_(std::move(spec)), distribution_(load_distribution_table(spec_->distribution)) {}

void netem_engine::record() const {
  if (before_) return;
  if (!sock_) sock_.emplace(spec_->netns);
  ifindex_ = checked_device(*sock_, *spec_);
  auto tree = read_qdisc_tree(*sock_, ifindex_);
  if (auto why = unrestorable_reason(tree); !why.empty())
    throw fault_error(fmt::format("network: faultline could not restore the qdisc tree of {} exactly afterwards, so it does not "
                                  "touch it: {}. Remove that part of the tree, or use engine: userspace",
                                  device_label(*spec_), why));
  layout_ = plan_layout(*spec_, tree.majors());
  before_ = std::move(tree);
}

boost::asio::awaitable<void> netem_engine::apply() {
  apply_now();
  co_return;
}

boost::asio::awaitable<void> netem_engine::remove() {
  remove_now();
  co_return;
}

void netem_engine::apply_now() {
  if (applied_) throw fault_error("network: this fault is already applied");
  record();
  if (const auto* r = before_->root()) root_before_ = r->stats();
  auto steps = build_install(*spec_, ifindex_, layout_, distribution_);
  bool root_replaced = false;
  try {
    for (auto& step : steps) {
      sock_->request(step.message.get(), step.what);
      root_replaced = true;
    }
  } catch (const fault_error& e) {
    if (!root_replaced) throw;  // the first request failed: nothing changed
    try {
      restore_device(*sock_, ifindex_, device_label(*spec_), layout_, *before_, {});
    } catch (const std::exception& undo) {
      throw fault_error(fmt::format("{}; and putting the previous qdisc tree back failed too: {}", e.what(), undo.what()));
    }
    throw;
  }
  applied_ = true;
  auto now = read_qdisc_tree(*sock_, ifindex_);
  installed_root_options_ = options_hex(now.root());
  installed_netem_options_ = options_hex(now.qdisc(layout_.netem_handle));
  netem_log()->info("{}: applied {} (netem {}{})", device_label(*spec_), spec_->describe(), handle_text(layout_.netem_handle),
                 layout_.scoped ? fmt::format(" under prio {}", handle_text(layout_.root_handle)) : "");
}

void netem_engine::remove_now() {
  if (!applied_ || removed_) return;
  netem_after_ = restore_device(*sock_, ifindex_, device_label(*spec_), layout_, *before_,
                                {installed_root_options_, installed_netem_options_});
  removed_ = true;
}

evidence netem_engine::collect_evidence() const {
  evidence e;
  auto stats = netem_after_;
  if (applied_ && !removed_ && sock_) {
    try {
      auto now = read_qdisc_tree(*sock_, ifindex_);
      if (const auto* q = now.qdisc(layout_.netem_handle)) stats = q->stats();
    } catch (const std::exception& ex) {
      e.details["read_error"] = ex.what();
    }
  }
  e.details["device"] = spec_->device;
  if (!spec_->netns.empty()) e.details["netns"] = spec_->netns;
  e.details["layout"] = layout_to_json(layout_);
  if (root_before_) e.details["root_qdisc_before"] = root_before_->to_json();
  if (stats) e.details["netem_qdisc"] = stats->to_json();
  e.details["tree_restored"] = removed_;
  if (stats) {
    e.observed = stats->packets > 0 || stats->drops > 0;
    e.summary = fmt::format("netem on {}: {} packets sent, {} dropped, {} queued ({} bytes backlog)", device_label(*spec_), stats->packets,
                            stats->drops, stats->qlen, stats->backlog);
  } else {
    e.summary = applied_ ? fmt::format("netem on {}: no statistics could be read", device_label(*spec_))
                         : fmt::format("netem on {}: not applied", device_label(*spec_));
  }
  return e;
}

nlohmann::json netem_engine::undo_record() const {
  try {
    record();
  } catch (const std::exception&) {
    return nullptr;  // nothing was changed; apply() reports the same problem when it runs
  }
  nlohmann::json j{{"engine", "netem"},
                   {"device", spec_->device},
                   {"netns", spec_->netns},
                   {"layout", layout_to_json(layout_)},
                   {"previous_tree", before_->to_json()}};
  if (applied_) j["installed"] = {{"root_options", installed_root_options_}, {"netem_options", installed_netem_options_}};
  return j;
}

std::string missing_netem_message(const std::string& kernel_answer) {
  return fmt::format(
      "network: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM), so engine: netem cannot run (creating a netem qdisc in a "
      "scratch network namespace failed: {}). Install and load the module: on Debian it ships with the kernel package "
      "(linux-image-$(uname -r)), on Ubuntu `apt install linux-modules-extra-$(uname -r)`, on Fedora/RHEL/CentOS Stream "
      "`dnf install kernel-modules-extra`; then `modprobe sch_netem`. A custom kernel needs CONFIG_NET_SCH_NETEM=m or =y. Or use "
      "the userspace packet engine: set 'engine: userspace' (NFQUEUE), or 'engine: auto' to use netem where the kernel has it "
      "and the userspace engine elsewhere",
      kernel_answer);
}

std::string netem_unavailable_reason() {
  static std::once_flag once;
  static std::string reason;
  std::call_once(once, [] {
    try {
      auto sock = route_socket::scratch_namespace();
      network_spec probe;
      probe.device = "lo";
      probe.delay = std::chrono::milliseconds(1);
      auto msg = build_netem_qdisc(probe, 1 /* lo is always 1 in a new namespace */, TC_H_ROOT, 0, {}, 0);
      sock.request(msg.get(), "creating a netem qdisc on lo in a scratch network namespace");
    } catch (const netlink_error& e) {
      const auto answer = fmt::format("{}{}", std::strerror(e.error()),
                                      e.kernel_message().empty() ? "" : ", \"" + e.kernel_message() + "\"");
      if (e.error() == ENOENT || e.error() == EOPNOTSUPP) reason = missing_netem_message(answer);
      else if (e.error() == EPERM || e.error() == EACCES)
        reason = fmt::format("network: not allowed to change traffic control ({}); network faults need CAP_NET_ADMIN: run "
                             "faultline as root",
                             answer);
      else reason = fmt::format("network: cannot tell whether this kernel has sch_netem: {}", e.what());
    } catch (const std::exception& e) {
      reason = e.what();
    }
  });
  return reason;
}

void undo_netem(const nlohmann::json& record) {
  try {
    const auto device = record.at("device").get<std::string>();
    const auto netns = record.value("netns", std::string());
    const auto layout = layout_from_json(record.at("layout"));
    const auto before = qdisc_tree::from_json(record.at("previous_tree"));
    installed_fingerprint installed;
    if (record.contains("installed")) {
      installed.root_options = record["installed"].value("root_options", std::string());
      installed.netem_options = record["installed"].value("netem_options", std::string());
    }
    route_socket sock(netns);
    const int ifindex = sock.ifindex(device);
    if (ifindex == 0) {
      netem_log()->info("{}{}: device is gone; nothing to restore", device, netns_phrase(netns));
      return;
    }
    restore_device(sock, ifindex, device + netns_phrase(netns), layout, before, installed);
  } catch (const nlohmann::json::exception& e) {
    throw fault_error(fmt::format("network: the netem undo record is malformed: {}", e.what()));
  }
}

engine_kind netem_engine_kind() {
  engine_kind k;
  k.name = "netem";
  k.unavailable_reason = netem_unavailable_reason;
  k.create = [](std::shared_ptr<const network_spec> spec, const fault_context&) -> std::unique_ptr<network_engine> {
    return std::make_unique<netem_engine>(std::move(spec));
  };
  k.undo = undo_netem;
  return k;
}

}  // namespace faultline::faults::network
