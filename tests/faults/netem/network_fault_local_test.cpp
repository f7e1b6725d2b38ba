// The network fault against this machine's kernel, in a namespace of the test's own: engine
// selection and the capability error (this kernel has no sch_netem), refusals that must come before
// any change, and recovery refusing a root qdisc that is not faultline's.

#include "faults/netem/netem_engine.hpp"
#include "faults/netem/network_fault.hpp"
#include "faults/userspace/userspace_engine.hpp"
#include "tests/faults/netem/scratch_netns.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace faultline;
using namespace faultline::faults::network;
using namespace std::chrono_literals;

namespace {

params delay_params(const std::string& netns, const std::string& engine = "netem") {
  params p;
  p.set("netns", netns);
  p.set("delay", std::chrono::nanoseconds(50ms));
  p.set("engine", engine);
  return p;
}

std::unique_ptr<faults::fault> create(const params& p, const std::string& device = "va") {
  faults::fault_registry registry;
  faults::register_builtin_faults(registry);
  faults::fault_context ctx;
  ctx.target = device;
  ctx.step_name = "network-1";
  return registry.find("network")->create(p, ctx);
}

void run(boost::asio::awaitable<void> work) {
  boost::asio::io_context io;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

std::shared_ptr<const network_spec> spec_for(const std::string& netns, bool allow_default_route = false) {
  auto s = std::make_shared<network_spec>();
  s->device = "va";
  s->netns = netns;
  s->delay = 50ms;
  s->allow_default_route = allow_default_route;
  return s;
}

}  // namespace

TEST_CASE("without sch_netem the fault fails fast with the fix and touches nothing", "[faults]") {
  test::scratch_netns ns("cap");
  ns.in("tc qdisc add dev va root handle 1: htb default 20");
  ns.in("tc class add dev va parent 1: classid 1:20 htb rate 100mbit");
  const auto before = ns.tc_tree();

  const auto why = netem_unavailable_reason();
  if (why.empty()) {
    // A kernel with netem: the same request applies and reverts, and the tree comes back.
    auto f = create(delay_params(ns.name()));
    CHECK(f->engine() == "netem");
    run(f->inject());
    CHECK(ns.tc_tree() != before);
    run(f->revert());
    CHECK(ns.tc_tree() == before);
    return;
  }
  CHECK_THAT(why, Catch::Contains("this kernel has no sch_netem (CONFIG_NET_SCH_NETEM)"));
  CHECK_THAT(why, Catch::Contains("Specified qdisc kind is unknown"));  // the kernel's own answer
  CHECK_THAT(why, Catch::Contains("apt install linux-modules-extra-$(uname -r)"));
  CHECK_THAT(why, Catch::Contains("dnf install kernel-modules-extra"));
  CHECK_THAT(why, Catch::Contains("modprobe sch_netem"));
  CHECK_THAT(why, Catch::Contains("set 'engine: userspace'"));

  try {
    create(delay_params(ns.name()));
    FAIL("created a netem fault on a kernel without netem");
  } catch (const faults::capability_error& e) {
    CHECK(std::string(e.what()) == why);
  }
  // auto falls back to the userspace engine where it can run; creating a fault changes nothing
  if (faults::userspace::userspace_unavailable_reason().empty()) {
    CHECK(create(delay_params(ns.name(), "auto"))->engine() == "userspace");
    CHECK(create(delay_params(ns.name(), "userspace"))->engine() == "userspace");
  } else {
    CHECK_THROWS_AS(create(delay_params(ns.name(), "auto")), faults::capability_error);
  }
  CHECK(ns.tc_tree() == before);
}

TEST_CASE("through the loader and the tool: exit code 2, no state file, nothing changed", "[faults]") {
  if (!netem_unavailable_reason().empty()) {
    test::scratch_netns ns("cli");
    const auto before = ns.tc_tree();
    auto dir = std::filesystem::temp_directory_path() / ("fl-netem-cli-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
      std::ofstream x(dir / "x.yaml");
      x << "version: 1\nname: x\ntimeline:\n  steps:\n    - { name: slow, at: 0s, for: 1s, fault: network, target: va, netns: "
        << ns.name() << ", delay: 50ms }\n";
    }
    auto command = std::string(NETEM_TOOL) + " inject " + (dir / "x.yaml").string() + " slow --state " + (dir / "state.json").string();
    const int status = std::system((command + " > " + (dir / "out.txt").string() + " 2>&1").c_str());
    std::ifstream out(dir / "out.txt");
    std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
    CHECK(WEXITSTATUS(status) == 2);
    CHECK_THAT(text, Catch::StartsWith("CAPABILITY network: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM)"));
    CHECK_FALSE(std::filesystem::exists(dir / "state.json"));
    CHECK(ns.tc_tree() == before);
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("the device carrying the default route is refused before anything changes", "[faults]") {
  test::scratch_netns ns("route");
  ns.in("ip addr add 10.200.5.1/24 dev va");
  ns.in("ip route add default via 10.200.5.254 dev va");
  ns.in("tc qdisc add dev va root handle 1: htb default 20");
  const auto before = ns.tc_tree();

  netem_engine refused(spec_for(ns.name()));
  CHECK_THROWS_WITH(refused.apply_now(), Catch::Contains("va in netns " + ns.name() + " carries the default route") &&
                                             Catch::Contains("'allow_default_route: true'"));
  CHECK(ns.tc_tree() == before);
  // The userspace engine checks the device the same way, before any rule or qdisc.
  faults::userspace::userspace_engine userspace(spec_for(ns.name()), "network-1");
  CHECK_THROWS_WITH(userspace.apply_now(), Catch::Contains("va in netns " + ns.name() + " carries the default route"));
  CHECK(ns.tc_tree() == before);

  // Allowed: it gets as far as the kernel, which (here) has no netem; the first request fails,
  // so the tree is still untouched.
  netem_engine allowed(spec_for(ns.name(), true));
  if (!netem_unavailable_reason().empty()) {
    CHECK_THROWS_WITH(allowed.apply_now(), Catch::Contains("adding netem fa17: as the root qdisc of va in netns " + ns.name()) &&
                                               Catch::Contains("Specified qdisc kind is unknown"));
    CHECK(ns.tc_tree() == before);
  }
}

TEST_CASE("a missing device or namespace is named", "[faults]") {
  test::scratch_netns ns("missing");
  auto spec = std::make_shared<network_spec>(*spec_for(ns.name()));
  spec->device = "nope0";
  netem_engine engine(spec);
  CHECK_THROWS_WITH(engine.apply_now(), "network: device 'nope0' not found in netns " + ns.name() +
                                            " (see `ip link show`); fix the step's target");
  faults::userspace::userspace_engine userspace(spec, "network-1");
  CHECK_THROWS_WITH(userspace.apply_now(), "network: device 'nope0' not found in netns " + ns.name() +
                                               " (see `ip link show`); fix the step's target");
  CHECK_THROWS_WITH(route_socket("fl-no-such-ns"),
                    "network: network namespace 'fl-no-such-ns' not found (/run/netns/fl-no-such-ns: No such file or directory); "
                    "create it with `ip netns add fl-no-such-ns` or fix 'netns'");
}

TEST_CASE("recovery leaves a root qdisc that is not faultline's alone", "[faults]") {
  test::scratch_netns ns("recover");
  ns.in("tc qdisc add dev va root handle 1: htb default 20");
  ns.in("tc class add dev va parent 1: classid 1:20 htb rate 100mbit");
  const auto before = ns.tc_tree();

  // The record a run writes before injecting: the tree above and the handles faultline would use.
  netem_engine engine(spec_for(ns.name()));
  auto record = engine.undo_record();
  CHECK(record["engine"] == "netem");
  CHECK(record["layout"]["root"] == "fa17:");
  CHECK(record["previous_tree"].size() == 2);
  auto from_file = nlohmann::json::parse(record.dump());

  // The run died before injecting: recovery finds the tree as recorded and does nothing.
  undo_netem(from_file);
  CHECK(ns.tc_tree() == before);

  // Someone else replaced the root meanwhile: recovery refuses and changes nothing.
  ns.in("tc qdisc replace dev va root handle 77: tbf rate 10mbit burst 32kb latency 50ms");
  const auto foreign = ns.tc_tree();
  CHECK_THROWS_WITH(undo_netem(from_file),
                    Catch::Contains("the root qdisc of va in netns " + ns.name() + " changed since faultline injected the fault") &&
                        Catch::Contains("found qdisc tbf 77: parent root") && Catch::Contains("before the fault: qdisc htb 1: parent root"));
  CHECK(ns.tc_tree() == foreign);

  // The device is gone: nothing to restore.
  ns.in("ip link del va");
  CHECK_NOTHROW(undo_netem(from_file));
}
