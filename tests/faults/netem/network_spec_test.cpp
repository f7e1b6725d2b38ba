#include "faults/netem/network_spec.hpp"

#include "engine/loader.hpp"
#include "tests/support/test_catalogue.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

using namespace faultline;
using namespace faultline::faults::network;
using namespace std::chrono_literals;

namespace {

std::string experiment_with(const std::string& step) {
  return "version: 1\nname: x\ntimeline:\n  steps:\n    - " + step + "\n";
}

std::vector<std::string> problems_of(const std::string& step) {
  try {
    engine::parse_experiment(experiment_with(step), "t.yaml", test::builtin_catalogue(), {});
  } catch (const engine::config_error& e) {
    std::vector<std::string> out;
    for (const auto& p : e.problems()) out.push_back(p.to_string());
    return out;
  }
  return {};
}

network_spec spec_of(const std::string& step) {
  auto x = engine::parse_experiment(experiment_with(step), "t.yaml", test::builtin_catalogue(), {});
  const auto& s = x.timeline.steps.at(0);
  return parse_network_spec(s.parameters, s.target);
}

struct bad_step {
  const char* step;
  const char* expected;
};

// Each bad combination and the exact problem the loader reports for it.
const std::vector<bad_step> bad_steps{
    {"{ at: 0s, for: 1s, fault: network, target: va, reorder: 10% }",
     "t.yaml:5:63: timeline.steps[0].reorder: reordering sends some packets at once while the rest wait; set 'delay' too (e.g. "
     "delay: 10ms)"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 10ms, gap: 3 }",
     "t.yaml:5:72: timeline.steps[0].gap: 'gap' spaces reordered packets; set 'reorder' too (e.g. reorder: 25%)"},
    {"{ at: 0s, for: 1s, fault: network, target: va, jitter: 3ms }",
     "t.yaml:5:62: timeline.steps[0].jitter: jitter varies the delay; set 'delay' too (e.g. delay: 50ms, jitter: 10ms)"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 5ms, correlation: 25% }",
     "t.yaml:5:79: timeline.steps[0].correlation: 'correlation' correlates the jitter; set 'jitter' too"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 5ms, distribution: pareto }",
     "t.yaml:5:80: timeline.steps[0].distribution: 'distribution' shapes the jitter; set 'jitter' too"},
    {"{ at: 0s, for: 1s, fault: network, target: va, loss_correlation: 20% }",
     "t.yaml:5:72: timeline.steps[0].loss_correlation: 'loss_correlation' needs 'loss' (e.g. loss: 10%)"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, duplicate_correlation: 2% }",
     "t.yaml:5:89: timeline.steps[0].duplicate_correlation: 'duplicate_correlation' needs 'duplicate' (e.g. duplicate: 10%)"},
    {"{ at: 0s, for: 1s, fault: network, target: va, loss: 1%, gilbert_elliott: { p: 1% } }",
     "t.yaml:5:86: timeline.steps[0].gilbert_elliott.p: use either 'loss' (random) or 'gilbert_elliott' (bursty), not both"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, gilbert_elliott: { r: 1% } }",
     "t.yaml:5:88: timeline.steps[0].gilbert_elliott.r: 'gilbert_elliott.r' needs 'gilbert_elliott.p' (the chance of entering the "
     "bad state)"},
    {"{ at: 0s, for: 1s, fault: network, target: va }",
     "t.yaml:5:7: timeline.steps[0].delay: this network fault changes nothing; set at least one of delay, loss, gilbert_elliott, "
     "duplicate, corrupt or rate"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, hosts: [10.200.0.1/24] }",
     "t.yaml:5:73: timeline.steps[0].hosts: '10.200.0.1/24' has host bits set; did you mean 10.200.0.0/24?"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, hosts: [db.internal] }",
     "t.yaml:5:73: timeline.steps[0].hosts: 'db.internal' is not an IPv4 or IPv6 address or CIDR (e.g. 10.200.1.2, "
     "10.200.0.0/16, fd00::/64); host names are not resolved"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, hosts: [10.200.0.0/33] }",
     "t.yaml:5:73: timeline.steps[0].hosts: '10.200.0.0/33' has a bad prefix length (0-32)"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, ports: [http] }",
     "t.yaml:5:73: timeline.steps[0].ports: 'http' is not a port number (1-65535); ranges are not supported, list each port"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, ports: [0] }",
     "t.yaml:5:73: timeline.steps[0].ports: '0' is not a port number (1-65535); ranges are not supported, list each port"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, protocol: icmp, ports: [80] }",
     "t.yaml:5:89: timeline.steps[0].ports: ICMP has no ports; remove 'ports' or use protocol: tcp, udp or all"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, engine: kernel }",
     "t.yaml:5:74: timeline.steps[0].engine: 'kernel' is not a valid engine (choose one of: netem, userspace, auto)"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, netns: a/b }",
     "t.yaml:5:73: timeline.steps[0].netns: 'a/b' is not a namespace name (as `ip netns list` shows it, no '/')"},
    {"{ at: 0s, for: 1s, fault: network, target: va, loss: 120% }",
     "t.yaml:5:60: timeline.steps[0].loss: '120%' is outside 0%..100%"},
    {"{ at: 0s, for: 1s, fault: network, target: va, delay: 1ms, hosts: [10.200.0.0/24, 10.200.1.0/24, 10.200.2.0/24, 10.200.3.0/24, "
     "10.200.4.0/24, 10.200.5.0/24, 10.200.6.0/24, 10.200.7.0/24, 10.200.8.0/24], ports: [1, 2, 3, 4, 5, 6, 7, 8] }",
     "t.yaml:5:73: timeline.steps[0].hosts: hosts x ports expand to 576 match rules, more than 256; use CIDRs instead of single "
     "addresses, or fewer ports"},
};

}  // namespace

TEST_CASE("bad network parameters are rejected with the place and the fix", "[faults]") {
  for (const auto& c : bad_steps) {
    INFO(c.step);
    CHECK(problems_of(c.step) == std::vector<std::string>{c.expected});
  }
}

TEST_CASE("every network parameter parses into the spec", "[faults]") {
  auto s = spec_of(R"({ at: 0s, for: 1s, fault: network, target: va, netns: lab, delay: 50ms, jitter: 5ms, correlation: 25%,
        distribution: paretonormal, gilbert_elliott: { p: 2%, loss_bad: 80% }, duplicate: 1%, duplicate_correlation: 3%,
        corrupt: 0.1%, reorder: 25%, reorder_correlation: 50%, gap: 5, rate: 10Mbit/s, limit: 3000,
        hosts: [10.200.1.2, "fd00::/64"], ports: [5432, 6379], protocol: tcp, engine: auto, allow_default_route: true })");
  CHECK(s.device == "va");
  CHECK(s.netns == "lab");
  CHECK(s.delay == 50ms);
  CHECK(s.jitter == 5ms);
  CHECK(s.delay_correlation == Approx(0.25));
  CHECK(s.distribution == delay_distribution::paretonormal);
  CHECK_FALSE(s.loss);
  REQUIRE(s.loss_model);
  CHECK(s.loss_model->p == Approx(0.02));
  CHECK(s.loss_model->r == Approx(0.98));  // 1 - p, as tc defaults it
  CHECK(s.loss_model->loss_bad == Approx(0.8));
  CHECK(s.loss_model->loss_good == Approx(0.0));
  REQUIRE(s.duplicate);
  CHECK(s.duplicate->correlation == Approx(0.03));
  REQUIRE(s.corrupt);
  CHECK(s.corrupt->value == Approx(0.001));
  REQUIRE(s.reorder);
  CHECK(s.reorder->correlation == Approx(0.5));
  CHECK(s.gap == 5);
  REQUIRE(s.rate);
  CHECK(*s.rate == Approx(1.25e6));  // bytes per second
  CHECK(s.limit == 3000);
  REQUIRE(s.scope.hosts.size() == 2);
  CHECK(s.scope.hosts[0].text == "10.200.1.2");
  CHECK(s.scope.hosts[1].text == "fd00::/64");
  CHECK(s.scope.ports == std::vector<std::uint16_t>{5432, 6379});
  CHECK(s.scope.protocol == ip_protocol::tcp);
  CHECK(s.engine == engine_choice::auto_select);
  CHECK(s.allow_default_route);
  CHECK(s.describe() ==
        "delay 50ms +/- 5ms paretonormal, bursty loss (p 2%, r 98%), duplicate 1%, corrupt 0.1%, reorder 25%, rate 10000 kbit/s "
        "to/from 10.200.1.2, fd00::/64 port 5432 6379 (tcp) on va in netns lab");
}

TEST_CASE("defaults: netem engine, all traffic, limit 1000, default route refused", "[faults]") {
  auto s = spec_of("{ at: 0s, for: 1s, fault: network, target: va, loss: 10% }");
  CHECK(s.engine == engine_choice::netem);
  CHECK(s.scope.all_traffic());
  CHECK(expand_scope(s.scope).empty());
  CHECK(s.limit == 1000);
  CHECK_FALSE(s.allow_default_route);
  CHECK(s.netns.empty());
  REQUIRE(s.loss);
  CHECK(s.loss->correlation == 0);
}

TEST_CASE("the scope expands into source-or-destination rules", "[faults]") {
  traffic_scope scope;
  scope.hosts = {parse_ip_prefix("10.200.1.2"), parse_ip_prefix("fd00::/64")};
  scope.ports = {7001};
  auto rules = expand_scope(scope);
  // 2 hosts x (src, dst) x 1 port x (sport, dport) x (tcp, udp)
  REQUIRE(rules.size() == 16);
  CHECK(rules[0].family == AF_INET);
  CHECK(rules[0].source->text == "10.200.1.2");
  CHECK(*rules[0].protocol == 6);
  CHECK(*rules[0].source_port == 7001);
  CHECK_FALSE(rules[0].destination_port);
  CHECK(*rules[1].destination_port == 7001);
  CHECK(*rules[2].protocol == 17);
  CHECK(rules[4].destination->text == "10.200.1.2");
  CHECK(rules[8].family == AF_INET6);

  traffic_scope ports_only;
  ports_only.ports = {53};
  ports_only.protocol = ip_protocol::udp;
  auto r = expand_scope(ports_only);
  REQUIRE(r.size() == 4);  // (IPv4, IPv6) x (sport, dport)
  CHECK(r[0].family == AF_INET);
  CHECK(r[2].family == AF_INET6);
  CHECK(*r[3].protocol == 17);

  traffic_scope icmp;
  icmp.protocol = ip_protocol::icmp;
  auto i = expand_scope(icmp);
  REQUIRE(i.size() == 2);
  CHECK(*i[0].protocol == 1);
  CHECK(*i[1].protocol == 58);  // ICMPv6
}

TEST_CASE("addresses and CIDRs parse and contain one another", "[faults]") {
  auto net = parse_ip_prefix("10.200.0.0/16");
  CHECK(net.family == AF_INET);
  CHECK(net.length == 16);
  CHECK(net.contains(parse_ip_prefix("10.200.7.9")));
  CHECK_FALSE(net.contains(parse_ip_prefix("10.201.0.1")));
  CHECK(parse_ip_prefix("::1").text == "::1");
  CHECK(parse_ip_prefix("::1").length == 128);
  CHECK(parse_ip_prefix("0.0.0.0/0").contains(parse_ip_prefix("192.0.2.1")));
  CHECK_THROWS_WITH(parse_ip_prefix("10.200.0.1/16"), "'10.200.0.1/16' has host bits set; did you mean 10.200.0.0/16?");
  CHECK_THROWS_AS(parse_ip_prefix("10.200.0.0/x"), std::invalid_argument);
}
