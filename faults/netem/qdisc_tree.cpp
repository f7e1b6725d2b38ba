#include "faults/netem/qdisc_tree.hpp"

#include "faults/netem/netem_messages.hpp"

#include <fmt/format.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <arpa/inet.h>
#include <linux/gen_stats.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace faultline::faults::network {
namespace {

// Qdisc kinds whose classes are created by the user; the classes of every other kind (prio's bands,
// mq's queues, tbf's single class) exist with the qdisc and are not replayed.
const std::set<std::string> kinds_with_created_classes{"htb", "hfsc", "drr", "qfq", "cbq"};

nlmsghdr* header_of(const raw_message& m) { return reinterpret_cast<nlmsghdr*>(const_cast<std::uint8_t*>(m.data())); }
const tcmsg* tc_of(const raw_message& m) { return static_cast<const tcmsg*>(nlmsg_data(header_of(m))); }

nlattr* find(const raw_message& m, int type) { return nlmsg_find_attr(header_of(m), sizeof(tcmsg), type); }

// Copies nested attributes, dropping some and letting `edit` change others.
std::vector<std::uint8_t> rewrite_nested(const nlattr* nest, const std::set<int>& drop,
                                         const std::function<void(int type, std::vector<std::uint8_t>& payload)>& edit) {
  std::vector<std::uint8_t> out;
  const nlattr* a;
  int rem;
  nla_for_each_nested(a, nest, rem) {
    const int type = nla_type(a);
    if (drop.contains(type)) continue;
    std::vector<std::uint8_t> payload(static_cast<const std::uint8_t*>(nla_data(a)),
                                      static_cast<const std::uint8_t*>(nla_data(a)) + nla_len(a));
    if (edit) edit(type, payload);
    nlattr h{static_cast<std::uint16_t>(NLA_HDRLEN + payload.size()), a->nla_type};
    const auto start = out.size();
    out.resize(start + NLA_ALIGN(h.nla_len), 0);
    std::memcpy(out.data() + start, &h, sizeof h);
    std::memcpy(out.data() + start + NLA_HDRLEN, payload.data(), payload.size());
  }
  return out;
}

std::vector<std::uint8_t> payload_of(const nlattr* a) {
  return {static_cast<const std::uint8_t*>(nla_data(a)), static_cast<const std::uint8_t*>(nla_data(a)) + nla_len(a)};
}

// Options as sent back to the kernel: output-only parts removed (u32 hit counters, the kernel's
// "not in hardware" flag).
std::vector<std::uint8_t> options_for_replay(const tc_object& o) {
  auto* opts = find(o.message(), TCA_OPTIONS);
  if (!opts) return {};
  if (o.kind() == tc_kind::filter && o.type() == "u32") {
    auto out = rewrite_nested(opts, {TCA_U32_PCNT}, [](int type, std::vector<std::uint8_t>& payload) {
      if (type == TCA_U32_FLAGS && payload.size() >= 4) {
        std::uint32_t flags;
        std::memcpy(&flags, payload.data(), 4);
        flags &= TCA_CLS_FLAGS_SKIP_HW | TCA_CLS_FLAGS_SKIP_SW;
        std::memcpy(payload.data(), &flags, 4);
      }
    });
    return out;
  }
  if (o.kind() == tc_kind::qdisc && o.type() == "htb")
    return rewrite_nested(opts, {}, [](int type, std::vector<std::uint8_t>& payload) {
      if (type == TCA_HTB_INIT && payload.size() >= sizeof(tc_htb_glob)) {
        tc_htb_glob g;
        std::memcpy(&g, payload.data(), sizeof g);
        if (g.version == 0x30011) g.version = 3;  // sch_htb dumps HTB_VER (0x30011) but accepts only its major, 3
        g.direct_pkts = 0;
        std::memcpy(payload.data(), &g, sizeof g);
      }
    });
  return payload_of(opts);
}

std::uint16_t attr_type(const raw_message& m, int type) {
  auto* a = find(m, type);
  return a ? a->nla_type : static_cast<std::uint16_t>(type);
}

bool is_u32_hash_table(const tc_object& o) {
  if (o.type() != "u32") return false;
  auto* opts = find(o.message(), TCA_OPTIONS);
  return opts && nla_find(static_cast<nlattr*>(nla_data(opts)), nla_len(opts), TCA_U32_DIVISOR) != nullptr;
}

// Filters are replayed one classifier instance (parent, chain, preference, protocol) at a time.
// u32 needs care: each instance gets a root hash table from a per-qdisc counter (800:, 801:, ...)
// that the knodes' handles name, so instances are created, empty, in the order of their root
// tables; then the hash tables users made (newest last in a dump); then the filters themselves.
template <typename Rebuild>
void append_filter_replay(const qdisc_tree& tree, std::vector<replay_step>& out, Rebuild&& rebuild) {
  struct instance {
    const tc_object* header = nullptr;
    std::vector<const tc_object*> tables;  // in dump order; the last is the root table
    std::vector<const tc_object*> filters;
  };
  std::vector<std::pair<std::string, instance>> instances;
  for (const auto& o : tree.objects()) {
    if (o.kind() != tc_kind::filter) continue;
    auto key = fmt::format("{}/{}/{}", o.parent(), o.chain().value_or(0), o.info());
    auto it = std::find_if(instances.begin(), instances.end(), [&](auto& p) { return p.first == key; });
    if (it == instances.end()) it = instances.insert(instances.end(), {key, instance{}});
    if (o.handle() == 0) it->second.header = &o;
    else if (is_u32_hash_table(o)) it->second.tables.push_back(&o);
    else it->second.filters.push_back(&o);
  }
  auto root_table = [](const instance& i) { return i.tables.empty() ? 0u : i.tables.back()->handle(); };
  auto parent_of = [](const instance& i) {
    return i.header ? i.header->parent() : !i.filters.empty() ? i.filters.front()->parent() : i.tables.front()->parent();
  };
  std::vector<std::uint32_t> parents;  // in dump order
  for (auto& [key, i] : instances)
    if (std::find(parents.begin(), parents.end(), parent_of(i)) == parents.end()) parents.push_back(parent_of(i));
  auto rank = [&](const instance& i) {
    return std::pair(std::find(parents.begin(), parents.end(), parent_of(i)) - parents.begin(), root_table(i));
  };
  std::stable_sort(instances.begin(), instances.end(), [&](auto& a, auto& b) { return rank(a.second) < rank(b.second); });
  for (auto& [key, i] : instances) {
    if (i.header) out.push_back({rebuild(*i.header, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL), "restoring " + i.header->label()});
    for (auto t = i.tables.rbegin(); t != i.tables.rend(); ++t) {
      if (t == i.tables.rbegin()) continue;  // the root table, made with the instance
      out.push_back({rebuild(**t, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL), "restoring " + (*t)->label()});
    }
    for (const auto* f : i.filters)
      out.push_back({rebuild(*f, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL), "restoring " + f->label()});
  }
}

}  // namespace

nlohmann::json qdisc_stats::to_json() const {
  return {{"backlog_bytes", backlog}, {"bytes", bytes},       {"drops", drops},      {"overlimits", overlimits},
          {"packets", packets},       {"queue_packets", qlen}, {"requeues", requeues}};
}

tc_object::tc_object(tc_kind kind, raw_message message) : kind_(kind), message_(std::move(message)) {
  if (message_.size() < NLMSG_HDRLEN + sizeof(tcmsg) || header_of(message_)->nlmsg_len != message_.size())
    throw fault_error("network: a traffic-control message is truncated");
}

std::uint32_t tc_object::handle() const { return tc_of(message_)->tcm_handle; }
std::uint32_t tc_object::parent() const { return tc_of(message_)->tcm_parent; }
std::uint32_t tc_object::info() const { return tc_of(message_)->tcm_info; }

std::string tc_object::type() const {
  auto* a = find(message_, TCA_KIND);
  if (!a) return "?";
  return std::string(static_cast<const char*>(nla_data(a)), strnlen(static_cast<const char*>(nla_data(a)), nla_len(a)));
}

std::optional<std::uint32_t> tc_object::chain() const {
  auto* a = find(message_, TCA_CHAIN);
  if (!a) return std::nullopt;
  return nla_get_u32(a);
}

bool tc_object::has_attribute(int type) const { return find(message_, type) != nullptr; }

std::vector<std::uint8_t> tc_object::options() const {
  auto* opts = find(message_, TCA_OPTIONS);
  if (!opts) return {};
  if (kind_ == tc_kind::filter && type() == "u32") return rewrite_nested(opts, {TCA_U32_PCNT}, nullptr);
  if (kind_ == tc_kind::qdisc && type() == "htb")
    return rewrite_nested(opts, {}, [](int t, std::vector<std::uint8_t>& payload) {
      if (t == TCA_HTB_INIT && payload.size() >= sizeof(tc_htb_glob)) {
        tc_htb_glob g;
        std::memcpy(&g, payload.data(), sizeof g);
        g.direct_pkts = 0;  // a counter
        std::memcpy(payload.data(), &g, sizeof g);
      }
    });
  return payload_of(opts);
}

std::optional<qdisc_stats> tc_object::stats() const {
  auto* s2 = find(message_, TCA_STATS2);
  if (!s2) return std::nullopt;
  qdisc_stats out;
  const nlattr* a;
  int rem;
  nla_for_each_nested(a, s2, rem) {
    if (nla_type(a) == TCA_STATS_BASIC && nla_len(a) >= static_cast<int>(sizeof(gnet_stats_basic))) {
      gnet_stats_basic b;
      std::memcpy(&b, nla_data(a), sizeof b);
      out.bytes = b.bytes;
      out.packets = b.packets;
    } else if (nla_type(a) == TCA_STATS_QUEUE && nla_len(a) >= static_cast<int>(sizeof(gnet_stats_queue))) {
      gnet_stats_queue q;
      std::memcpy(&q, nla_data(a), sizeof q);
      out.qlen = q.qlen;
      out.backlog = q.backlog;
      out.drops = q.drops;
      out.requeues = q.requeues;
      out.overlimits = q.overlimits;
    }
  }
  return out;
}

std::string tc_object::label() const {
  switch (kind_) {
    case tc_kind::qdisc: return fmt::format("qdisc {} {} parent {}", type(), handle_text(handle()), handle_text(parent()));
    case tc_kind::tclass: return fmt::format("class {} {} parent {}", type(), handle_text(handle()), handle_text(parent()));
    case tc_kind::filter:
      return fmt::format("filter {} parent {} pref {} protocol 0x{:04x} handle 0x{:x}", type(), handle_text(parent()), info() >> 16,
                         ntohs(static_cast<std::uint16_t>(info() & 0xffff)), handle());
  }
  return "?";
}

std::string tc_object::canonical() const {
  auto line = label();
  if (kind_ == tc_kind::filter) line += fmt::format(" chain {}", chain().value_or(0));
  return line + " options " + hex(options());
}

const tc_object* qdisc_tree::root() const {
  for (const auto& o : objects_)
    if (o.kind() == tc_kind::qdisc && o.parent() == TC_H_ROOT) return &o;
  return nullptr;
}

const tc_object* qdisc_tree::qdisc(std::uint32_t handle) const {
  for (const auto& o : objects_)
    if (o.kind() == tc_kind::qdisc && o.handle() == handle) return &o;
  return nullptr;
}

bool qdisc_tree::default_root() const {
  const auto* r = root();
  return !r || r->handle() == 0;
}

std::vector<std::uint32_t> qdisc_tree::majors() const {
  std::vector<std::uint32_t> out;
  for (const auto& o : objects_)
    if (o.kind() == tc_kind::qdisc) out.push_back(TC_H_MAJ(o.handle()) >> 16);
  return out;
}

std::vector<std::string> qdisc_tree::canonical() const {
  std::vector<std::string> out;
  for (const auto& o : objects_) out.push_back(o.canonical());
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json qdisc_tree::to_json() const {
  auto list = nlohmann::json::array();
  for (const auto& o : objects_) {
    const char* kind = o.kind() == tc_kind::qdisc ? "qdisc" : o.kind() == tc_kind::tclass ? "class" : "filter";
    list.push_back({{"kind", kind}, {"label", o.label()}, {"message", hex(o.message())}});
  }
  return list;
}

qdisc_tree qdisc_tree::from_json(const nlohmann::json& j) {
  if (!j.is_array()) throw fault_error("network: the recorded qdisc tree is not a list");
  std::vector<tc_object> objects;
  for (const auto& item : j) {
    auto kind = item.value("kind", std::string());
    tc_kind k = kind == "qdisc" ? tc_kind::qdisc : kind == "class" ? tc_kind::tclass : tc_kind::filter;
    if (kind != "qdisc" && kind != "class" && kind != "filter")
      throw fault_error(fmt::format("network: the recorded qdisc tree has an object of kind '{}'", kind));
    objects.emplace_back(k, unhex(item.value("message", std::string())));
  }
  return qdisc_tree(std::move(objects));
}

qdisc_tree read_qdisc_tree(route_socket& sock, int ifindex) {
  tcmsg req{};
  req.tcm_family = AF_UNSPEC;
  req.tcm_ifindex = ifindex;

  std::vector<tc_object> qdiscs;
  for (auto& m : sock.dump(RTM_GETQDISC, &req, sizeof req))
    if (header_of(m)->nlmsg_type == RTM_NEWQDISC && tc_of(m)->tcm_ifindex == ifindex) qdiscs.emplace_back(tc_kind::qdisc, std::move(m));

  // The egress tree: the root and, transitively, every qdisc under one of its classes.
  std::vector<tc_object> objects;
  std::set<std::uint32_t> majors;
  for (auto& q : qdiscs)
    if (q.parent() == TC_H_ROOT) {
      majors.insert(TC_H_MAJ(q.handle()));
      objects.push_back(q);
    }
  for (bool grew = true; grew;) {
    grew = false;
    for (auto& q : qdiscs) {
      if (q.parent() == TC_H_ROOT || q.parent() == TC_H_INGRESS || TC_H_MAJ(q.parent()) == TC_H_MAJ(TC_H_CLSACT)) continue;
      if (!majors.contains(TC_H_MAJ(q.parent()))) continue;
      if (std::any_of(objects.begin(), objects.end(), [&](const tc_object& o) { return o.message() == q.message(); })) continue;
      majors.insert(TC_H_MAJ(q.handle()));
      objects.push_back(q);
      grew = true;
    }
  }
  if (objects.empty()) return qdisc_tree();

  std::vector<std::uint32_t> filter_parents;
  for (const auto& o : objects)
    if (o.handle() != 0) filter_parents.push_back(o.handle());
  for (auto& m : sock.dump(RTM_GETTCLASS, &req, sizeof req)) {
    if (header_of(m)->nlmsg_type != RTM_NEWTCLASS || tc_of(m)->tcm_ifindex != ifindex) continue;
    tc_object c(tc_kind::tclass, std::move(m));
    if (!majors.contains(TC_H_MAJ(c.handle()))) continue;
    if (TC_H_MAJ(c.handle()) != 0) filter_parents.push_back(c.handle());
    objects.push_back(std::move(c));
  }
  for (auto parent : filter_parents) {
    tcmsg f = req;
    f.tcm_parent = parent;
    for (auto& m : sock.dump(RTM_GETTFILTER, &f, sizeof f))
      if (header_of(m)->nlmsg_type == RTM_NEWTFILTER) objects.emplace_back(tc_kind::filter, std::move(m));
  }
  return qdisc_tree(std::move(objects));
}

std::vector<std::string> tree_differences(const qdisc_tree& expected, const qdisc_tree& actual) {
  auto want = expected.canonical(), have = actual.canonical();
  std::vector<std::string> missing, extra, out;
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(), std::back_inserter(missing));
  std::set_difference(have.begin(), have.end(), want.begin(), want.end(), std::back_inserter(extra));
  for (auto& m : missing) out.push_back("missing: " + m);
  for (auto& e : extra) out.push_back("unexpected: " + e);
  return out;
}

std::string unrestorable_reason(const qdisc_tree& tree) {
  for (const auto& o : tree.objects()) {
    if (o.has_attribute(TCA_STAB))
      return fmt::format("{} has a size table (tc ... stab), which the kernel does not report back in full", o.label());
    if (o.kind() != tc_kind::filter || o.handle() == 0) continue;
    if (o.type() != "u32")
      return fmt::format("{} is a '{}' filter; faultline restores u32 filters only", o.label(), o.type());
    auto* opts = find(o.message(), TCA_OPTIONS);
    if (!opts) continue;
    if (nla_find(static_cast<nlattr*>(nla_data(opts)), nla_len(opts), TCA_U32_ACT) ||
        nla_find(static_cast<nlattr*>(nla_data(opts)), nla_len(opts), TCA_U32_POLICE))
      return fmt::format("{} has actions, whose state faultline cannot restore", o.label());
  }
  return {};
}

std::vector<replay_step> build_replay(const qdisc_tree& tree, int ifindex, std::uint32_t current_root_handle) {
  std::vector<replay_step> out;
  auto rebuild = [&](const tc_object& o, int type, int flags) {
    message_ptr msg(nlmsg_alloc_simple(type, flags));
    if (!msg) throw fault_error("network: out of memory for a netlink message");
    tcmsg tc = *tc_of(o.message());
    tc.tcm_ifindex = ifindex;
    if (o.kind() != tc_kind::filter) tc.tcm_info = 0;  // qdiscs report a reference count here
    if (nlmsg_append(msg.get(), &tc, sizeof tc, NLMSG_ALIGNTO) < 0) throw fault_error("network: netlink message too large");
    auto kind = o.type();
    if (nla_put_string(msg.get(), TCA_KIND, kind.c_str()) < 0) throw fault_error("network: netlink message too large");
    if (auto c = o.chain(); c && o.kind() == tc_kind::filter) nla_put_u32(msg.get(), TCA_CHAIN, *c);
    if (o.has_attribute(TCA_OPTIONS)) {
      auto opts = options_for_replay(o);
      if (nla_put(msg.get(), attr_type(o.message(), TCA_OPTIONS), static_cast<int>(opts.size()), opts.data()) < 0)
        throw fault_error("network: netlink message too large");
    }
    return msg;
  };

  const auto* root = tree.root();
  if (tree.default_root()) {
    out.push_back({build_delete_root(ifindex, current_root_handle),
                   fmt::format("deleting root qdisc {} so the kernel restores its default{}", handle_text(current_root_handle),
                               root ? " (" + root->type() + ")" : "")});
  } else {
    out.push_back({rebuild(*root, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE), "restoring " + root->label()});
  }

  // Parents before children: depth of each qdisc and class below the root.
  std::map<const tc_object*, int> depth;
  std::function<int(const tc_object&)> depth_of = [&](const tc_object& o) -> int {
    if (auto it = depth.find(&o); it != depth.end()) return it->second;
    depth[&o] = 0;  // cycles cannot happen in a kernel dump; this guards against a corrupted record
    int d = 0;
    if (o.parent() != TC_H_ROOT) {
      const tc_object* up = nullptr;
      for (const auto& p : tree.objects())
        if (p.kind() == tc_kind::tclass && p.handle() == o.parent()) up = &p;
      if (!up) up = tree.qdisc(TC_H_MAJ(o.parent()));
      if (up && up != &o) d = depth_of(*up) + 1;
    }
    return depth[&o] = d;
  };
  std::vector<const tc_object*> ordered;
  for (const auto& o : tree.objects())
    if (o.kind() != tc_kind::filter && &o != root) ordered.push_back(&o);
  std::stable_sort(ordered.begin(), ordered.end(), [&](auto* a, auto* b) { return depth_of(*a) < depth_of(*b); });

  for (const auto* o : ordered) {
    if (o->kind() == tc_kind::qdisc) {
      if (o->handle() == 0) continue;  // a default child comes back with its parent
      out.push_back({rebuild(*o, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE), "restoring " + o->label()});
    } else {
      const auto* owner = tree.qdisc(TC_H_MAJ(o->handle()));
      if (!owner || !kinds_with_created_classes.contains(owner->type())) continue;  // exists with its qdisc
      out.push_back({rebuild(*o, RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL), "restoring " + o->label()});
    }
  }
  append_filter_replay(tree, out, rebuild);
  return out;
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::vector<std::uint8_t> unhex(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2) throw fault_error("network: a recorded netlink message has an odd number of hex digits");
  std::vector<std::uint8_t> out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = value(text[2 * i]), lo = value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) throw fault_error("network: a recorded netlink message is not hex");
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace faultline::faults::network
