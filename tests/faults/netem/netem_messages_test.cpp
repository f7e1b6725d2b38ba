// The netlink messages the netem engine sends, checked attribute by attribute without a kernel.

#include "faults/netem/netem_messages.hpp"

#include "faults/netem/distribution_table.hpp"

#include <catch2/catch.hpp>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/utils.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <map>

using namespace faultline::faults::network;
using namespace std::chrono_literals;

namespace {

// One message taken apart.
struct decoded {
  nlmsghdr header{};
  tcmsg tc{};
  std::string kind;
  std::vector<std::uint8_t> options;  // TCA_OPTIONS payload
  bool options_end_message = false;   // TCA_OPTIONS is last and the message ends with it
};

decoded decode(nl_msg* msg) {
  decoded d;
  auto* nlh = nlmsg_hdr(msg);
  d.header = *nlh;
  std::memcpy(&d.tc, nlmsg_data(nlh), sizeof d.tc);
  nlattr* a;
  int rem;
  nlmsg_for_each_attr(a, nlh, sizeof(tcmsg), rem) {
    if (nla_type(a) == TCA_KIND) d.kind = nla_get_string(a);
    if (nla_type(a) == TCA_OPTIONS) {
      d.options.assign(static_cast<std::uint8_t*>(nla_data(a)), static_cast<std::uint8_t*>(nla_data(a)) + nla_len(a));
      d.options_end_message = reinterpret_cast<char*>(a) + NLA_ALIGN(a->nla_len) == reinterpret_cast<char*>(nlh) + nlh->nlmsg_len;
    }
  }
  return d;
}

// netem options: the fixed tc_netem_qopt, then attributes.
struct netem_options {
  tc_netem_qopt qopt{};
  std::map<int, std::vector<std::uint8_t>> attrs;
  template <typename T>
  T get(int type) const {
    T out{};
    auto& bytes = attrs.at(type);
    REQUIRE(bytes.size() >= sizeof out);
    std::memcpy(&out, bytes.data(), sizeof out);
    return out;
  }
};

netem_options netem_of(const decoded& d) {
  REQUIRE(d.kind == "netem");
  REQUIRE(d.options.size() >= sizeof(tc_netem_qopt));
  netem_options n;
  std::memcpy(&n.qopt, d.options.data(), sizeof n.qopt);
  const auto start = NLA_ALIGN(sizeof(tc_netem_qopt));
  for (auto at = start; at + NLA_HDRLEN <= d.options.size();) {
    nlattr h;
    std::memcpy(&h, d.options.data() + at, sizeof h);
    REQUIRE(h.nla_len >= NLA_HDRLEN);
    REQUIRE(at + h.nla_len <= d.options.size());
    n.attrs[h.nla_type & NLA_TYPE_MASK].assign(d.options.begin() + static_cast<long>(at + NLA_HDRLEN),
                                               d.options.begin() + static_cast<long>(at + h.nla_len));
    at += NLA_ALIGN(h.nla_len);
  }
  return n;
}

network_spec base_spec() {
  network_spec s;
  s.device = "veth0";
  return s;
}

netem_options netem_message(const network_spec& s, std::span<const std::int16_t> table = {}) {
  auto msg = build_netem_qdisc(s, 7, TC_H_ROOT, 0xfa170000, table, NLM_F_REPLACE);
  auto d = decode(msg.get());
  CHECK(d.header.nlmsg_type == RTM_NEWQDISC);
  CHECK((d.header.nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE)) == (NLM_F_CREATE | NLM_F_REPLACE));
  CHECK(d.tc.tcm_ifindex == 7);
  CHECK(d.tc.tcm_parent == TC_H_ROOT);
  CHECK(d.tc.tcm_handle == 0xfa170000);
  CHECK(d.options_end_message);  // netem reads every attribute inside TCA_OPTIONS
  return netem_of(d);
}

std::vector<tc_u32_key> keys_of(const decoded& d) {
  std::vector<tc_u32_key> out;
  for (std::size_t at = 0; at + NLA_HDRLEN <= d.options.size();) {
    nlattr h;
    std::memcpy(&h, d.options.data() + at, sizeof h);
    if ((h.nla_type & NLA_TYPE_MASK) == TCA_U32_SEL) {
      tc_u32_sel sel;
      std::memcpy(&sel, d.options.data() + at + NLA_HDRLEN, sizeof sel);
      for (int k = 0; k < sel.nkeys; ++k) {
        tc_u32_key key;
        std::memcpy(&key, d.options.data() + at + NLA_HDRLEN + sizeof sel + k * sizeof key, sizeof key);
        out.push_back(key);
      }
      CHECK((sel.flags & TC_U32_TERMINAL));
    }
    at += NLA_ALIGN(h.nla_len);
  }
  return out;
}

std::uint32_t u32_attr(const decoded& d, int type) {
  for (std::size_t at = 0; at + NLA_HDRLEN <= d.options.size();) {
    nlattr h;
    std::memcpy(&h, d.options.data() + at, sizeof h);
    if ((h.nla_type & NLA_TYPE_MASK) == type) {
      std::uint32_t v;
      std::memcpy(&v, d.options.data() + at + NLA_HDRLEN, 4);
      return v;
    }
    at += NLA_ALIGN(h.nla_len);
  }
  FAIL("attribute missing");
  return 0;
}

}  // namespace

TEST_CASE("probabilities scale to 32 bits as tc rounds them", "[faults]") {
  CHECK(netem_probability(0) == 0);
  CHECK(netem_probability(1) == 0xffffffffu);
  CHECK(netem_probability(0.1) == 429496730u);
  CHECK(netem_probability(0.5) == 2147483648u);
  CHECK(netem_probability(1.5) == 0xffffffffu);
}

TEST_CASE("netem: delay only", "[faults]") {
  auto s = base_spec();
  s.delay = 50ms;
  auto n = netem_message(s);
  CHECK(n.qopt.latency == nl_us2ticks(50000));
  CHECK(n.qopt.jitter == 0);
  CHECK(n.qopt.limit == 1000);
  CHECK(n.qopt.loss == 0);
  CHECK(n.qopt.duplicate == 0);
  CHECK(n.qopt.gap == 0);
  CHECK(n.get<std::int64_t>(TCA_NETEM_LATENCY64) == 50'000'000);  // exact nanoseconds
  CHECK_FALSE(n.attrs.contains(TCA_NETEM_JITTER64));
  CHECK_FALSE(n.attrs.contains(TCA_NETEM_CORR));
  CHECK_FALSE(n.attrs.contains(TCA_NETEM_LOSS));
  CHECK_FALSE(n.attrs.contains(TCA_NETEM_RATE));
  CHECK_FALSE(n.attrs.contains(TCA_NETEM_DELAY_DIST));
}

TEST_CASE("netem: jitter, correlation and a normal distribution", "[faults]") {
  auto s = base_spec();
  s.delay = 100ms;
  s.jitter = 20ms;
  s.delay_correlation = 0.25;
  s.distribution = delay_distribution::normal;
  auto table = load_distribution_table(s.distribution);
  REQUIRE(table.size() == 4096);
  auto n = netem_message(s, table);
  CHECK(n.qopt.latency == nl_us2ticks(100000));
  CHECK(n.qopt.jitter == nl_us2ticks(20000));
  CHECK(n.get<std::int64_t>(TCA_NETEM_JITTER64) == 20'000'000);
  CHECK(n.get<tc_netem_corr>(TCA_NETEM_CORR).delay_corr == netem_probability(0.25));
  REQUIRE(n.attrs.at(TCA_NETEM_DELAY_DIST).size() == 4096 * 2);
  CHECK(std::memcmp(n.attrs.at(TCA_NETEM_DELAY_DIST).data(), table.data(), 8192) == 0);
  CHECK(n.get<std::int64_t>(TCA_NETEM_LATENCY64) == 100'000'000);  // still present after the 8 KiB table
}

TEST_CASE("netem: random loss with correlation", "[faults]") {
  auto s = base_spec();
  s.loss = chance{0.1, 0.25};
  auto n = netem_message(s);
  CHECK(n.qopt.loss == 429496730u);
  CHECK(n.get<tc_netem_corr>(TCA_NETEM_CORR).loss_corr == netem_probability(0.25));
  CHECK_FALSE(n.attrs.contains(TCA_NETEM_LOSS));
  CHECK_FALSE(n.attrs.contains(TCA_NETEM_LATENCY64));
}

TEST_CASE("netem: Gilbert-Elliott loss as the kernel's p, r, h, k1", "[faults]") {
  auto s = base_spec();
  s.loss_model = gilbert_elliott{0.01, 0.3, 0.5, 0.02};
  auto n = netem_message(s);
  CHECK(n.qopt.loss == 0);
  const auto& nest = n.attrs.at(TCA_NETEM_LOSS);
  REQUIRE(nest.size() == NLA_HDRLEN + sizeof(tc_netem_gemodel));
  nlattr inner;
  std::memcpy(&inner, nest.data(), sizeof inner);
  CHECK(inner.nla_type == NETEM_LOSS_GE);
  tc_netem_gemodel ge;
  std::memcpy(&ge, nest.data() + NLA_HDRLEN, sizeof ge);
  CHECK(ge.p == netem_probability(0.01));
  CHECK(ge.r == netem_probability(0.3));
  CHECK(ge.h == netem_probability(0.5));  // the chance of keeping a packet in the bad state: 1 - 50%
  CHECK(ge.k1 == netem_probability(0.02));
}

TEST_CASE("netem: duplicate, corrupt, reorder with gap, limit", "[faults]") {
  auto s = base_spec();
  s.delay = 10ms;
  s.duplicate = chance{0.01, 0.05};
  s.corrupt = chance{0.005, 0.1};
  s.reorder = chance{0.25, 0.5};
  s.gap = 5;
  s.limit = 3000;
  auto n = netem_message(s);
  CHECK(n.qopt.duplicate == netem_probability(0.01));
  CHECK(n.qopt.gap == 5);
  CHECK(n.qopt.limit == 3000);
  CHECK(n.get<tc_netem_corr>(TCA_NETEM_CORR).dup_corr == netem_probability(0.05));
  auto corrupt = n.get<tc_netem_corrupt>(TCA_NETEM_CORRUPT);
  CHECK(corrupt.probability == netem_probability(0.005));
  CHECK(corrupt.correlation == netem_probability(0.1));
  auto reorder = n.get<tc_netem_reorder>(TCA_NETEM_REORDER);
  CHECK(reorder.probability == netem_probability(0.25));
  CHECK(reorder.correlation == netem_probability(0.5));

  s.gap = 0;  // reorder by chance only: tc and libnl send gap 1
  CHECK(netem_message(s).qopt.gap == 1);
}

TEST_CASE("netem: rate in bytes per second, 64-bit above 4 GB/s", "[faults]") {
  auto s = base_spec();
  s.rate = 1.25e6;  // 10 Mbit/s
  auto n = netem_message(s);
  CHECK(n.get<tc_netem_rate>(TCA_NETEM_RATE).rate == 1250000u);
  CHECK_FALSE(n.attrs.contains(TCA_NETEM_RATE64));

  s.rate = 5e9;  // 40 Gbit/s
  auto big = netem_message(s);
  CHECK(big.get<tc_netem_rate>(TCA_NETEM_RATE).rate == 0xffffffffu);
  CHECK(big.get<std::uint64_t>(TCA_NETEM_RATE64) == 5'000'000'000u);
}

TEST_CASE("scoped: prio root with four bands, pfifo_fast's map shifted off band 1", "[faults]") {
  auto msg = build_prio_qdisc(7, 0xfa170000, NLM_F_REPLACE);
  auto d = decode(msg.get());
  CHECK(d.header.nlmsg_type == RTM_NEWQDISC);
  CHECK(d.kind == "prio");
  CHECK(d.tc.tcm_parent == TC_H_ROOT);
  CHECK(d.tc.tcm_handle == 0xfa170000);
  REQUIRE(d.options.size() >= sizeof(tc_prio_qopt));
  tc_prio_qopt q;
  std::memcpy(&q, d.options.data(), sizeof q);
  CHECK(q.bands == 4);
  for (int i = 0; i <= TC_PRIO_MAX; ++i) {
    CHECK(q.priomap[i] == scoped_priomap[static_cast<std::size_t>(i)]);
    CHECK(q.priomap[i] != 0);  // nothing but the filters reaches band 1, where netem sits
  }
}

TEST_CASE("scoped: u32 filters match host and port as source or destination", "[faults]") {
  auto s = base_spec();
  s.delay = 50ms;
  s.scope.hosts = {parse_ip_prefix("10.200.1.0/24")};
  s.scope.ports = {7001};
  s.scope.protocol = ip_protocol::udp;
  auto filters = build_scope_filters(s, 7, 0xfa170000, 0xfa170001);
  REQUIRE(filters.size() == 4);  // (src host, dst host) x (sport, dport)

  auto first = decode(filters[0].get());
  CHECK(first.header.nlmsg_type == RTM_NEWTFILTER);
  CHECK((first.header.nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) == (NLM_F_CREATE | NLM_F_EXCL));
  CHECK(first.kind == "u32");
  CHECK(first.tc.tcm_parent == 0xfa170000);
  CHECK(first.tc.tcm_info == TC_H_MAKE(1u << 16, htons(ETH_P_IP)));  // preference 1, IPv4
  CHECK(u32_attr(first, TCA_U32_CLASSID) == 0xfa170001);
  auto k = keys_of(first);
  REQUIRE(k.size() == 4);
  CHECK(k[0].off == 0);  // IHL 5: ports at a fixed offset
  CHECK(k[0].val == htonl(0x05000000));
  CHECK(k[0].mask == htonl(0x0f000000));
  CHECK(k[1].off == 8);  // protocol byte
  CHECK(k[1].val == htonl(17u << 16));
  CHECK(k[1].mask == htonl(0x00ff0000));
  CHECK(k[2].off == 12);  // source address /24
  CHECK(k[2].val == htonl(0x0ac80100));
  CHECK(k[2].mask == htonl(0xffffff00));
  CHECK(k[3].off == 20);  // source port
  CHECK(k[3].val == htonl(7001u << 16));
  CHECK(k[3].mask == htonl(0xffff0000));

  auto k2 = keys_of(decode(filters[1].get()));  // same source host, destination port
  CHECK(k2[3].off == 20);
  CHECK(k2[3].val == htonl(7001u));
  CHECK(k2[3].mask == htonl(0x0000ffff));
  auto k3 = keys_of(decode(filters[2].get()));  // destination host
  CHECK(k3[2].off == 16);
  CHECK(k3[2].val == htonl(0x0ac80100));
}

TEST_CASE("scoped: IPv6 prefixes match only the words the prefix covers", "[faults]") {
  auto s = base_spec();
  s.delay = 5ms;
  s.scope.hosts = {parse_ip_prefix("fd00:1:2:3::/64")};
  auto filters = build_scope_filters(s, 7, 0xfa170000, 0xfa170001);
  REQUIRE(filters.size() == 2);
  auto d = decode(filters[0].get());
  CHECK(d.tc.tcm_info == TC_H_MAKE(2u << 16, htons(ETH_P_IPV6)));  // preference 2, IPv6
  auto k = keys_of(d);
  REQUIRE(k.size() == 2);
  CHECK(k[0].off == 8);
  CHECK(k[0].val == htonl(0xfd000001));
  CHECK(k[0].mask == 0xffffffffu);
  CHECK(k[1].off == 12);
  CHECK(k[1].val == htonl(0x00020003));
  auto dst = keys_of(decode(filters[1].get()));
  CHECK(dst[0].off == 24);
}

TEST_CASE("layout: faultline's handles avoid those in use", "[faults]") {
  auto s = base_spec();
  s.delay = 1ms;
  auto plain = plan_layout(s, {0, 1});
  CHECK_FALSE(plain.scoped);
  CHECK(plain.root_handle == 0xfa170000);
  CHECK(plain.netem_handle == plain.root_handle);
  CHECK(plain.netem_parent == TC_H_ROOT);

  s.scope.ports = {80};
  auto scoped = plan_layout(s, {0xfa17, 0xfa19});
  CHECK(scoped.scoped);
  CHECK(scoped.root_handle == 0xfa180000);
  CHECK(scoped.netem_handle == 0xfa1a0000);
  CHECK(scoped.netem_parent == 0xfa180001);

  auto steps = build_install(s, 7, scoped, {});
  REQUIRE(steps.size() == 2 + 8);  // prio, netem, then (IPv4, IPv6) x (tcp, udp) x (sport, dport)
  CHECK(decode(steps[0].message.get()).kind == "prio");
  auto netem = decode(steps[1].message.get());
  CHECK(netem.kind == "netem");
  CHECK(netem.tc.tcm_parent == 0xfa180001);
  CHECK((netem.header.nlmsg_flags & NLM_F_EXCL));
  CHECK(steps[1].what == "adding netem fa1a: under fa18:1 on veth0");
}

TEST_CASE("revert deletes faultline's root by handle", "[faults]") {
  auto msg = build_delete_root(7, 0xfa170000);
  auto d = decode(msg.get());
  CHECK(d.header.nlmsg_type == RTM_DELQDISC);
  CHECK(d.tc.tcm_parent == TC_H_ROOT);
  CHECK(d.tc.tcm_handle == 0xfa170000);
  CHECK(handle_text(0xfa170000) == "fa17:");
  CHECK(handle_text(0x00010010) == "1:10");
  CHECK(handle_text(TC_H_ROOT) == "root");
}

TEST_CASE("distribution tables are iproute2's", "[faults]") {
  CHECK(load_distribution_table(delay_distribution::uniform).empty());
  for (auto d : {delay_distribution::normal, delay_distribution::pareto, delay_distribution::paretonormal}) {
    auto t = load_distribution_table(d);
    CHECK(t.size() == 4096);
  }
  auto normal = load_distribution_table(delay_distribution::normal);
  CHECK(normal[2048] > -200);  // the median of a standard normal is 0
  CHECK(normal[2048] < 200);
  CHECK(parse_distribution_table("# c\n 1 -2 0x10\n", "t") == std::vector<std::int16_t>{1, -2, 16});
  CHECK_THROWS_WITH(parse_distribution_table("1 40000\n", "t.dist"), "network: t.dist:1: '40000' is not a 16-bit table value");
}
