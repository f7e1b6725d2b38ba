#include "faults/userspace/firewall_rules.hpp"

#include "faults/userspace/rate_shaper.hpp"
#include "faults/userspace/userspace_engine.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

using namespace faultline::faults;
using namespace faultline::faults::userspace;

namespace {

network::network_spec spec_on(const std::string& device) {
  network::network_spec s;
  s.device = device;
  s.netns = "lab";
  return s;
}

}  // namespace

TEST_CASE("unscoped: every packet arriving through the device goes to the queue, both families", "[faults]") {
  auto plan = plan_firewall(spec_on("vb"), "FAULTLINE-1f-1", "slow db", 64023, std::nullopt, {AF_INET, AF_INET6});
  REQUIRE(plan.families.size() == 2);
  CHECK(plan.comment == "faultline step slow db");
  CHECK(install_script(plan, plan.families[0]) ==
        "*mangle\n"
        ":FAULTLINE-1f-1 - [0:0]\n"
        "-A FAULTLINE-1f-1 -j NFQUEUE --queue-num 64023 --queue-bypass\n"
        "-A INPUT -i vb -m comment --comment \"faultline step slow db\" -j FAULTLINE-1f-1\n"
        "-A FORWARD -i vb -m comment --comment \"faultline step slow db\" -j FAULTLINE-1f-1\n"
        "COMMIT\n");
  CHECK(removal_script(plan, plan.families[1]) ==
        "*mangle\n"
        "-D INPUT -i vb -m comment --comment \"faultline step slow db\" -j FAULTLINE-1f-1\n"
        "-D FORWARD -i vb -m comment --comment \"faultline step slow db\" -j FAULTLINE-1f-1\n"
        "-F FAULTLINE-1f-1\n"
        "-X FAULTLINE-1f-1\n"
        "COMMIT\n");
}

TEST_CASE("scoped: hosts and ports match as source or destination, like the netem engine's u32 filters", "[faults]") {
  auto spec = spec_on("vb");
  spec.scope.hosts.push_back(network::parse_ip_prefix("10.200.1.1"));
  spec.scope.ports.push_back(7000);
  spec.scope.protocol = network::ip_protocol::tcp;
  auto plan = plan_firewall(spec, "FAULTLINE-2-1", "s", 64024, std::nullopt, {AF_INET, AF_INET6});
  REQUIRE(plan.families.size() == 1);  // no IPv6 address in the scope
  const auto& rules = plan.families[0].queue_rules;
  REQUIRE(rules.size() == 4);
  const std::vector<std::string> target{"-j", "NFQUEUE", "--queue-num", "64024", "--queue-bypass"};
  auto with_target = [&](std::vector<std::string> match) {
    match.insert(match.end(), target.begin(), target.end());
    return match;
  };
  CHECK(rules[0] == with_target({"-s", "10.200.1.1", "-p", "tcp", "-m", "tcp", "--sport", "7000"}));
  CHECK(rules[1] == with_target({"-s", "10.200.1.1", "-p", "tcp", "-m", "tcp", "--dport", "7000"}));
  CHECK(rules[2] == with_target({"-d", "10.200.1.1", "-p", "tcp", "-m", "tcp", "--sport", "7000"}));
  CHECK(rules[3] == with_target({"-d", "10.200.1.1", "-p", "tcp", "-m", "tcp", "--dport", "7000"}));
}

TEST_CASE("ports without a protocol match TCP and UDP in both families", "[faults]") {
  auto spec = spec_on("vb");
  spec.scope.ports.push_back(53);
  auto plan = plan_firewall(spec, "FAULTLINE-3-1", "s", 64023, std::nullopt, {AF_INET, AF_INET6});
  REQUIRE(plan.families.size() == 2);
  for (const auto& f : plan.families) {
    REQUIRE(f.queue_rules.size() == 4);
    CHECK(f.queue_rules[0][1] == "tcp");
    CHECK(f.queue_rules[2][1] == "udp");
  }
}

TEST_CASE("with duplicates, faultline's own marked copies return from the chain first", "[faults]") {
  auto plan = plan_firewall(spec_on("lo"), "FAULTLINE-4-1", "s", 64023, 0xfa17fa17u, {AF_INET});
  REQUIRE(plan.families.size() == 1);
  CHECK(plan.families[0].queue_rules.front() == std::vector<std::string>{"-m", "mark", "--mark", "0xfa17fa17", "-j", "RETURN"});
}

TEST_CASE("comments keep to plain characters, the plan survives the state file", "[faults]") {
  auto plan = plan_firewall(spec_on("vb"), "FAULTLINE-5-1", "x\"; rm -rf /", 64023, std::nullopt, {AF_INET});
  CHECK(plan.comment == "faultline step x__ rm -rf /");
  plan.families[0].table_existed = false;
  plan.families[0].base_chains_before = {"PREROUTING"};
  auto back = firewall_plan::from_json(plan.to_json());
  CHECK(back.to_json() == plan.to_json());
  CHECK(back.families[0].table_existed == false);

  auto foreign = plan.to_json();
  foreign["chain"] = "INPUT";
  CHECK_THROWS_WITH(firewall_plan::from_json(foreign), Catch::Contains("not faultline's"));
}

TEST_CASE("chain names are unique and fit iptables' 28 characters", "[faults]") {
  auto a = unique_chain_name(), b = unique_chain_name();
  CHECK(a != b);
  CHECK(a.rfind("FAULTLINE-", 0) == 0);
  CHECK(a.size() <= 28);
}

TEST_CASE("rate shaping: a burst of 1 ms (at least two frames) and room for `limit` frames", "[faults]") {
  auto spec = spec_on("vb");
  spec.rate = 125'000'000.0;  // 1 Gbit/s
  spec.limit = 1000;
  auto s = plan_shaper(spec, 1500, {0xfa17});
  CHECK(s.root_handle == 0xfa180000u);
  CHECK_FALSE(s.scoped);
  CHECK(s.burst == 125000);
  CHECK(s.queue_bytes == 1000 * 1518);

  spec.rate = 12'500.0;  // 100 kbit/s: the burst is two frames
  spec.scope.ports.push_back(80);
  auto slow = plan_shaper(spec, 1500, {});
  CHECK(slow.burst == 2 * 1518);
  CHECK(slow.scoped);
  CHECK(slow.root_handle == 0xfa170000u);
}

TEST_CASE("recovery after the namespace was deleted has nothing to undo", "[faults]") {
  auto plan = plan_firewall(spec_on("vb"), "FAULTLINE-6-1", "s", 64023, std::nullopt, {AF_INET});
  plan.netns = "fl-deleted-namespace-that-never-was";
  nlohmann::json record{{"engine", "userspace"}, {"device", "vb"}, {"netns", plan.netns}, {"firewall", plan.to_json()}};
  CHECK_NOTHROW(undo_userspace(record));
}
