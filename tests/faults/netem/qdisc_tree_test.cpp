// Recording and replaying a device's qdisc tree, on this machine's kernel (htb, tbf, u32, veth)
// inside a namespace of the test's own.

#include "faults/netem/qdisc_tree.hpp"

#include "faults/netem/netem_messages.hpp"
#include "tests/faults/netem/scratch_netns.hpp"

#include <catch2/catch.hpp>

#include <linux/pkt_sched.h>

using namespace faultline;
using namespace faultline::faults::network;

namespace {

void replay(route_socket& sock, const qdisc_tree& tree, int ifindex, std::uint32_t current_root) {
  for (auto& step : build_replay(tree, ifindex, current_root)) sock.request(step.message.get(), step.what);
}

void build_htb_tree(const test::scratch_netns& ns) {
  ns.in("tc qdisc add dev va root handle 1: htb default 20");
  ns.in("tc class add dev va parent 1: classid 1:1 htb rate 900mbit");
  ns.in("tc class add dev va parent 1:1 classid 1:10 htb rate 500mbit ceil 900mbit");
  ns.in("tc class add dev va parent 1:1 classid 1:20 htb rate 400mbit ceil 900mbit prio 2");
  ns.in("tc qdisc add dev va parent 1:10 handle 10: pfifo limit 500");
  ns.in("tc qdisc add dev va parent 1:20 handle 20: tbf rate 100mbit burst 64kb latency 20ms");
  ns.in("tc filter add dev va parent 1: protocol ip prio 5 u32 match ip dport 5432 0xffff flowid 1:10");
  ns.in("tc filter add dev va parent 1: protocol ip prio 5 u32 match ip src 10.200.3.0/24 flowid 1:20");
  ns.in("tc filter add dev va parent 1: protocol ipv6 prio 6 u32 match ip6 dport 6379 0xffff flowid 1:10");
}

}  // namespace

TEST_CASE("an htb tree with classes, leaf qdiscs and u32 filters is replayed exactly", "[faults]") {
  test::scratch_netns ns("tree");
  build_htb_tree(ns);
  const auto tc_before = ns.tc_tree();

  route_socket sock(ns.name());
  const int ifindex = sock.ifindex("va");
  REQUIRE(ifindex > 0);
  auto before = read_qdisc_tree(sock, ifindex);
  REQUIRE(before.root());
  CHECK(before.root()->type() == "htb");
  CHECK_FALSE(before.default_root());
  CHECK(unrestorable_reason(before).empty());
  // qdiscs: root and 2 leaves; classes: 3 of htb and tbf's own; filters: per instance a header,
  // its root hash table and the knodes
  CHECK(std::count_if(before.objects().begin(), before.objects().end(), [](auto& o) { return o.kind() == tc_kind::qdisc; }) == 3);
  CHECK(std::count_if(before.objects().begin(), before.objects().end(), [](auto& o) { return o.kind() == tc_kind::tclass; }) == 4);
  CHECK(std::count_if(before.objects().begin(), before.objects().end(), [](auto& o) { return o.kind() == tc_kind::filter; }) == 7);

  // Someone (faultline) replaces the root: the whole tree goes.
  ns.in("tc qdisc replace dev va root handle fa17: tbf rate 1mbit burst 32kb latency 50ms");
  REQUIRE_FALSE(tree_differences(before, read_qdisc_tree(sock, ifindex)).empty());

  replay(sock, before, ifindex, 0xfa170000);
  CHECK(tree_differences(before, read_qdisc_tree(sock, ifindex)).empty());
  CHECK(ns.tc_tree() == tc_before);  // tc agrees, handle for handle
}

TEST_CASE("a default root comes back when faultline's root is deleted", "[faults]") {
  test::scratch_netns ns("dflt");
  const auto tc_before = ns.tc_tree();
  route_socket sock(ns.name());
  const int ifindex = sock.ifindex("va");
  auto before = read_qdisc_tree(sock, ifindex);
  REQUIRE(before.root());
  CHECK(before.root()->type() == "noqueue");  // veth's default
  CHECK(before.default_root());

  ns.in("tc qdisc replace dev va root handle fa17: tbf rate 1mbit burst 32kb latency 50ms");
  auto steps = build_replay(before, ifindex, 0xfa170000);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].what == "deleting root qdisc fa17: so the kernel restores its default (noqueue)");
  replay(sock, before, ifindex, 0xfa170000);
  CHECK(tree_differences(before, read_qdisc_tree(sock, ifindex)).empty());
  CHECK(ns.tc_tree() == tc_before);
}

TEST_CASE("the recorded tree survives the state file", "[faults]") {
  test::scratch_netns ns("json");
  build_htb_tree(ns);
  route_socket sock(ns.name());
  const int ifindex = sock.ifindex("va");
  auto before = read_qdisc_tree(sock, ifindex);
  auto again = qdisc_tree::from_json(nlohmann::json::parse(before.to_json().dump()));
  CHECK(again.canonical() == before.canonical());
  CHECK(before.to_json()[0]["label"] == "qdisc htb 1: parent root");

  ns.in("tc qdisc replace dev va root handle fa17: tbf rate 1mbit burst 32kb latency 50ms");
  replay(sock, again, ifindex, 0xfa170000);  // as `faultline recover` does, from the file alone
  CHECK(tree_differences(before, read_qdisc_tree(sock, ifindex)).empty());

  CHECK_THROWS_WITH(qdisc_tree::from_json(nlohmann::json::parse(R"([{"kind":"qdisc","message":"zz"}])")),
                    "network: a recorded netlink message is not hex");
  CHECK_THROWS_AS(qdisc_tree::from_json(nlohmann::json::parse(R"([{"kind":"qdisc","message":"0102"}])")), faults::fault_error);
}

TEST_CASE("counters are read back and ignored when comparing", "[faults]") {
  test::scratch_netns ns("stats");
  ns.in("ip addr add 10.200.4.1/24 dev va");
  ns.in("ip neigh add 10.200.4.9 lladdr 02:00:0a:c8:04:09 dev va");  // a peer that needs no ARP
  ns.in("tc qdisc add dev va root handle 1: htb default 20");
  ns.in("tc class add dev va parent 1: classid 1:20 htb rate 100mbit");
  ns.in("tc filter add dev va parent 1: protocol ip prio 5 u32 match ip dst 10.200.4.9/32 flowid 1:20");
  route_socket sock(ns.name());
  const int ifindex = sock.ifindex("va");
  auto quiet = read_qdisc_tree(sock, ifindex);
  // Traffic moves the root's counters and the filter's hit counts, not the configuration.
  ns.in("bash -c 'for i in 1 2 3; do echo x > /dev/udp/10.200.4.9/9; done'");
  auto busy = read_qdisc_tree(sock, ifindex);
  auto stats = busy.root()->stats();
  REQUIRE(stats);
  CHECK(stats->packets >= 3);
  CHECK(stats->bytes > 0);
  CHECK(tree_differences(quiet, busy).empty());
}

TEST_CASE("trees faultline could not put back are refused up front", "[faults]") {
  test::scratch_netns ns("unrest");
  ns.in("tc qdisc add dev va root handle 1: htb default 20");
  ns.in("tc filter add dev va parent 1: protocol ip prio 5 u32 match ip dport 80 0xffff action mirred egress redirect dev vb");
  route_socket sock(ns.name());
  auto tree = read_qdisc_tree(sock, sock.ifindex("va"));
  CHECK_THAT(unrestorable_reason(tree), Catch::Contains("has actions, whose state faultline cannot restore"));
}

TEST_CASE("hex round trip", "[faults]") {
  std::vector<std::uint8_t> bytes{0x00, 0x7f, 0x80, 0xff};
  CHECK(hex(bytes) == "007f80ff");
  CHECK(unhex("007F80ff") == bytes);
  CHECK_THROWS_AS(unhex("abc"), faults::fault_error);
}
