#include "faults/netem/netem_messages.hpp"

#include <fmt/format.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/prio.h>
#include <netlink/route/tc.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

namespace faultline::faults::network {
namespace {

using qdisc_ptr = std::unique_ptr<rtnl_qdisc, void (*)(rtnl_qdisc*)>;
using cls_ptr = std::unique_ptr<rtnl_cls, void (*)(rtnl_cls*)>;

qdisc_ptr new_qdisc(const char* kind, int ifindex, std::uint32_t parent, std::uint32_t handle) {
  qdisc_ptr q(rtnl_qdisc_alloc(), rtnl_qdisc_put);
  if (!q) throw fault_error("network: out of memory for a qdisc");
  rtnl_tc_set_ifindex(TC_CAST(q.get()), ifindex);
  rtnl_tc_set_parent(TC_CAST(q.get()), parent);
  rtnl_tc_set_handle(TC_CAST(q.get()), handle);
  if (rtnl_tc_set_kind(TC_CAST(q.get()), kind) < 0) throw fault_error(fmt::format("network: libnl does not know qdisc '{}'", kind));
  return q;
}

void check(int rc, const char* what) {
  if (rc < 0) throw fault_error(fmt::format("network: building {} failed: {}", what, nl_geterror(rc)));
}

int micros(std::chrono::nanoseconds d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return static_cast<int>(std::min<long long>(us, std::numeric_limits<int>::max()));
}

int as_int(std::uint32_t v) {
  int out;
  std::memcpy(&out, &v, sizeof out);  // libnl takes the kernel's u32 through an int
  return out;
}

// netem wants TCA_OPTIONS to span every attribute after its fixed header; libnl arranges that for
// what it writes, and this appends what it does not write, keeping the span.
void append_netem_attributes(nl_msg* msg, const network_spec& spec) {
  auto* opts = nlmsg_find_attr(nlmsg_hdr(msg), sizeof(tcmsg), TCA_OPTIONS);
  if (!opts) throw fault_error("network: libnl built a netem message without options");
  const auto opts_offset = reinterpret_cast<char*>(opts) - reinterpret_cast<char*>(nlmsg_hdr(msg));
  // libnl 3.7 sets TCA_OPTIONS' span right but then adds the nested attributes to nlmsg_len a second
  // time, which would send trailing garbage; the span is the truth.
  nlmsg_hdr(msg)->nlmsg_len = static_cast<std::uint32_t>(opts_offset + NLA_ALIGN(opts->nla_len));
  // libnl sizes the buffer to fit what it wrote (a distribution table fills it); make room.
  check(nlmsg_expand(msg, nlmsg_get_max_size(msg) + 256), "the netem options");

  if (spec.delay.count() > 0) {
    std::int64_t ns = spec.delay.count();
    check(nla_put(msg, TCA_NETEM_LATENCY64, sizeof ns, &ns), "netem latency");
  }
  if (spec.jitter.count() > 0) {
    std::int64_t ns = spec.jitter.count();
    check(nla_put(msg, TCA_NETEM_JITTER64, sizeof ns, &ns), "netem jitter");
  }
  if (spec.loss_model) {
    tc_netem_gemodel ge{};
    ge.p = netem_probability(spec.loss_model->p);
    ge.r = netem_probability(spec.loss_model->r);
    ge.h = netem_probability(1.0 - spec.loss_model->loss_bad);  // the kernel keeps packets in the bad state with chance h
    ge.k1 = netem_probability(spec.loss_model->loss_good);
    std::array<std::uint8_t, NLA_HDRLEN + sizeof ge> inner{};
    nlattr header{static_cast<std::uint16_t>(NLA_HDRLEN + sizeof ge), NETEM_LOSS_GE};
    std::memcpy(inner.data(), &header, sizeof header);
    std::memcpy(inner.data() + NLA_HDRLEN, &ge, sizeof ge);
    check(nla_put(msg, TCA_NETEM_LOSS | NLA_F_NESTED, inner.size(), inner.data()), "netem Gilbert-Elliott loss");
  }
  if (spec.rate) {
    const auto bytes = static_cast<std::uint64_t>(std::llround(*spec.rate));
    tc_netem_rate rate{};
    rate.rate = static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, std::numeric_limits<std::uint32_t>::max()));
    check(nla_put(msg, TCA_NETEM_RATE, sizeof rate, &rate), "netem rate");
    if (bytes >= std::numeric_limits<std::uint32_t>::max()) check(nla_put(msg, TCA_NETEM_RATE64, sizeof bytes, &bytes), "netem rate");
  }

  auto* nlh = nlmsg_hdr(msg);
  auto* options = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(nlh) + opts_offset);
  options->nla_len = static_cast<std::uint16_t>(reinterpret_cast<char*>(nlmsg_tail(nlh)) - reinterpret_cast<char*>(options));
}

// Adds the keys that match `prefix` at `offset` (its first 32-bit word in the IP header).
void add_prefix_keys(rtnl_cls* cls, const ip_prefix& prefix, int offset) {
  const int words = prefix.family == AF_INET ? 1 : 4;
  for (int w = 0; w < words; ++w) {
    int bits = std::clamp(prefix.length - 32 * w, 0, 32);
    if (bits == 0) continue;
    std::uint32_t mask = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
    std::uint32_t value;
    std::memcpy(&value, prefix.bytes.data() + 4 * w, 4);
    check(rtnl_u32_add_key(cls, value & htonl(mask), htonl(mask), offset + 4 * w, 0), "a u32 address key");
  }
}

message_ptr build_filter(const match_rule& rule, int ifindex, std::uint32_t prio_handle, std::uint32_t classid) {
  cls_ptr cls(rtnl_cls_alloc(), rtnl_cls_put);
  if (!cls) throw fault_error("network: out of memory for a filter");
  rtnl_tc_set_ifindex(TC_CAST(cls.get()), ifindex);
  rtnl_tc_set_parent(TC_CAST(cls.get()), prio_handle);
  check(rtnl_tc_set_kind(TC_CAST(cls.get()), "u32"), "a u32 filter");
  const bool v4 = rule.family == AF_INET;
  rtnl_cls_set_prio(cls.get(), v4 ? 1 : 2);
  rtnl_cls_set_protocol(cls.get(), v4 ? ETH_P_IP : ETH_P_IPV6);

  const bool ports = rule.source_port || rule.destination_port;
  if (v4 && ports)  // fixed port offsets hold only for a 20-byte header (IHL 5)
    check(rtnl_u32_add_key(cls.get(), htonl(0x05000000), htonl(0x0f000000), 0, 0), "a u32 header-length key");
  if (rule.protocol) {
    if (v4) check(rtnl_u32_add_key(cls.get(), htonl(std::uint32_t{*rule.protocol} << 16), htonl(0x00ff0000), 8, 0), "a u32 protocol key");
    else check(rtnl_u32_add_key(cls.get(), htonl(std::uint32_t{*rule.protocol} << 8), htonl(0x0000ff00), 4, 0), "a u32 next-header key");
  }
  if (rule.source) add_prefix_keys(cls.get(), *rule.source, v4 ? 12 : 8);
  if (rule.destination) add_prefix_keys(cls.get(), *rule.destination, v4 ? 16 : 24);
  const int l4 = v4 ? 20 : 40;
  if (rule.source_port)
    check(rtnl_u32_add_key(cls.get(), htonl(std::uint32_t{*rule.source_port} << 16), htonl(0xffff0000), l4, 0), "a u32 port key");
  if (rule.destination_port)
    check(rtnl_u32_add_key(cls.get(), htonl(*rule.destination_port), htonl(0x0000ffff), l4, 0), "a u32 port key");
  check(rtnl_u32_set_classid(cls.get(), classid), "a u32 filter");
  check(rtnl_u32_set_cls_terminal(cls.get()), "a u32 filter");

  nl_msg* raw = nullptr;
  check(rtnl_cls_build_add_request(cls.get(), NLM_F_CREATE | NLM_F_EXCL, &raw), "a u32 filter");
  return message_ptr(raw);
}

}  // namespace

std::uint32_t netem_probability(double p) {
  p = std::clamp(p, 0.0, 1.0);
  return static_cast<std::uint32_t>(std::llround(p * static_cast<double>(std::numeric_limits<std::uint32_t>::max())));
}

std::string handle_text(std::uint32_t handle) {
  if (handle == TC_H_ROOT) return "root";
  if (handle == TC_H_INGRESS) return "ingress";
  auto major = TC_H_MAJ(handle) >> 16, minor = TC_H_MIN(handle);
  if (minor == 0) return fmt::format("{:x}:", major);
  return fmt::format("{:x}:{:x}", major, minor);
}

netem_layout plan_layout(const network_spec& spec, const std::vector<std::uint32_t>& taken_majors) {
  auto next_free = [&](std::uint32_t from) {
    while (std::find(taken_majors.begin(), taken_majors.end(), from) != taken_majors.end()) ++from;
    return from;
  };
  netem_layout l;
  l.scoped = !spec.scope.all_traffic();
  auto first = next_free(first_faultline_major);
  l.root_handle = first << 16;
  if (!l.scoped) {
    l.netem_handle = l.root_handle;
    l.netem_parent = TC_H_ROOT;
  } else {
    l.netem_handle = next_free(first + 1) << 16;
    l.netem_parent = TC_H_MAKE(l.root_handle, 1);
  }
  return l;
}

message_ptr build_netem_qdisc(const network_spec& spec, int ifindex, std::uint32_t parent, std::uint32_t handle,
                              std::span<const std::int16_t> distribution, int flags) {
  auto q = new_qdisc("netem", ifindex, parent, handle);
  auto* qd = q.get();
  rtnl_netem_set_limit(qd, static_cast<int>(spec.limit));
  if (spec.delay.count() > 0) rtnl_netem_set_delay(qd, micros(spec.delay));
  if (spec.jitter.count() > 0) rtnl_netem_set_jitter(qd, micros(spec.jitter));
  if (spec.delay_correlation > 0) rtnl_netem_set_delay_correlation(qd, as_int(netem_probability(spec.delay_correlation)));
  if (!distribution.empty())
    check(rtnl_netem_set_delay_distribution_data(qd, distribution.data(), distribution.size()), "the netem delay distribution");
  if (spec.loss) {
    rtnl_netem_set_loss(qd, as_int(netem_probability(spec.loss->value)));
    if (spec.loss->correlation > 0) rtnl_netem_set_loss_correlation(qd, as_int(netem_probability(spec.loss->correlation)));
  }
  if (spec.duplicate) {
    rtnl_netem_set_duplicate(qd, as_int(netem_probability(spec.duplicate->value)));
    if (spec.duplicate->correlation > 0)
      rtnl_netem_set_duplicate_correlation(qd, as_int(netem_probability(spec.duplicate->correlation)));
  }
  if (spec.corrupt) {
    rtnl_netem_set_corruption_probability(qd, as_int(netem_probability(spec.corrupt->value)));
    if (spec.corrupt->correlation > 0)
      rtnl_netem_set_corruption_correlation(qd, as_int(netem_probability(spec.corrupt->correlation)));
  }
  if (spec.reorder) {
    rtnl_netem_set_reorder_probability(qd, as_int(netem_probability(spec.reorder->value)));
    if (spec.reorder->correlation > 0) rtnl_netem_set_reorder_correlation(qd, as_int(netem_probability(spec.reorder->correlation)));
    rtnl_netem_set_gap(qd, static_cast<int>(spec.gap));  // 0 becomes 1 in libnl, as tc does
  }
  nl_msg* raw = nullptr;
  check(rtnl_qdisc_build_add_request(qd, NLM_F_CREATE | flags, &raw), "the netem qdisc");
  message_ptr msg(raw);
  append_netem_attributes(msg.get(), spec);
  return msg;
}

message_ptr build_prio_qdisc(int ifindex, std::uint32_t handle, int flags) {
  auto q = new_qdisc("prio", ifindex, TC_H_ROOT, handle);
  rtnl_qdisc_prio_set_bands(q.get(), scoped_bands);
  auto map = scoped_priomap;
  check(rtnl_qdisc_prio_set_priomap(q.get(), map.data(), static_cast<int>(map.size())), "the prio qdisc");
  nl_msg* raw = nullptr;
  check(rtnl_qdisc_build_add_request(q.get(), NLM_F_CREATE | flags, &raw), "the prio qdisc");
  return message_ptr(raw);
}

std::vector<message_ptr> build_scope_filters(const network_spec& spec, int ifindex, std::uint32_t prio_handle,
                                             std::uint32_t classid) {
  std::vector<message_ptr> out;
  for (const auto& rule : expand_scope(spec.scope)) out.push_back(build_filter(rule, ifindex, prio_handle, classid));
  return out;
}

std::vector<install_step> build_install(const network_spec& spec, int ifindex, const netem_layout& layout,
                                        std::span<const std::int16_t> distribution) {
  std::vector<install_step> out;
  const auto dev = spec.device + netns_phrase(spec.netns);
  if (!layout.scoped) {
    out.push_back({build_netem_qdisc(spec, ifindex, TC_H_ROOT, layout.root_handle, distribution, NLM_F_REPLACE),
                   fmt::format("adding netem {} as the root qdisc of {}", handle_text(layout.root_handle), dev)});
    return out;
  }
  out.push_back({build_prio_qdisc(ifindex, layout.root_handle, NLM_F_REPLACE),
                 fmt::format("adding prio {} as the root qdisc of {}", handle_text(layout.root_handle), dev)});
  out.push_back({build_netem_qdisc(spec, ifindex, layout.netem_parent, layout.netem_handle, distribution, NLM_F_EXCL),
                 fmt::format("adding netem {} under {} on {}", handle_text(layout.netem_handle), handle_text(layout.netem_parent), dev)});
  int n = 0;
  for (auto& f : build_scope_filters(spec, ifindex, layout.root_handle, layout.netem_parent))
    out.push_back({std::move(f), fmt::format("adding u32 filter {} on {}", ++n, dev)});
  return out;
}

message_ptr build_delete_root(int ifindex, std::uint32_t handle) {
  message_ptr msg(nlmsg_alloc_simple(RTM_DELQDISC, 0));
  if (!msg) throw fault_error("network: out of memory for a netlink message");
  tcmsg tc{};
  tc.tcm_family = AF_UNSPEC;
  tc.tcm_ifindex = ifindex;
  tc.tcm_handle = handle;
  tc.tcm_parent = TC_H_ROOT;
  check(nlmsg_append(msg.get(), &tc, sizeof tc, NLMSG_ALIGNTO), "a qdisc delete request");
  return msg;
}

}  // namespace faultline::faults::network
