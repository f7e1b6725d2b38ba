// The userspace engine on this machine's kernel, between two network namespaces the tests create
// (10.200.1.0/24) and remove by name. The fault is on the server side's veth, in its namespace.
#include "faults/userspace/userspace_engine.hpp"

#include "faults/netem/network_fault.hpp"
#include "faults/userspace/netns.hpp"
#include "tests/faults/userspace/netns_lab.hpp"
#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace faultline;
using namespace faultline::faults;
using namespace std::chrono_literals;
using test::netns_lab;

namespace {

std::string skip_reason() {
  if (auto why = test::netns_unavailable_reason(); !why.empty()) return why;
  return userspace::userspace_unavailable_reason();
}

#define SKIP_WITHOUT_NETNS()                  \
  if (auto why = skip_reason(); !why.empty()) { \
    WARN("skipped: " << why);                 \
    return;                                   \
  }

std::shared_ptr<network::network_spec> spec_for(const netns_lab& lab) {
  auto s = std::make_shared<network::network_spec>();
  s->device = lab.server_dev();
  s->netns = lab.server_ns();
  return s;
}

std::uint64_t counter(const evidence& e, const std::string& name) { return e.details.at("packets").at(name).get<std::uint64_t>(); }

// Pairs out of order in an arrival sequence.
int inversions(const std::vector<std::uint32_t>& seq) {
  int n = 0;
  for (std::size_t i = 1; i < seq.size(); ++i) n += seq[i] < seq[i - 1];
  return n;
}

void wait_for_udp(const test::echo_server& server, std::uint64_t at_least, std::chrono::milliseconds limit) {
  test::eventually([&] { return server.udp_received() >= at_least; }, limit);
  std::this_thread::sleep_for(100ms);  // stragglers
}

// Seconds to download `bytes` from the server namespace to the client namespace over TCP.
double download_seconds(const netns_lab& lab, std::uint16_t port, std::size_t bytes) {
  userspace::netns_handle server_ns(lab.server_ns()), client_ns(lab.client_ns());
  int listener = userspace::in_netns(server_ns, [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, netns_lab::server_ip, &a.sin_addr);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1) != 0) throw std::runtime_error("listen");
    return fd;
  });
  std::thread sender([&] {
    int c = ::accept(listener, nullptr, nullptr);
    std::vector<char> chunk(64 * 1024, 'd');
    for (std::size_t sent = 0; c >= 0 && sent < bytes;) {
      auto n = ::send(c, chunk.data(), std::min(chunk.size(), bytes - sent), MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    if (c >= 0) ::close(c);
  });
  double seconds = userspace::in_netns(client_ns, [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, netns_lab::server_ip, &a.sin_addr);
    const auto start = std::chrono::steady_clock::now();
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
    std::vector<char> buf(64 * 1024);
    std::size_t got = 0;
    for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) > 0;) got += static_cast<std::size_t>(n);
    ::close(fd);
    if (got != bytes) throw std::runtime_error("short download");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  sender.join();
  ::close(listener);
  return seconds;
}

}  // namespace

TEST_CASE("userspace: 50 ms delay adds 50 ms to TCP connect and request round trips, revert leaves no rule", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-delay");
  test::echo_server server(lab.server_ns(), {7000});
  const auto rules_before = test::ruleset(lab.server_ns());
  const auto host_rules_before = test::ruleset("");
  const auto before = test::measure_tcp(lab.client_ns(), netns_lab::server_ip, 7000, 15, 10);

  auto spec = spec_for(lab);
  spec->delay = 50ms;
  userspace::userspace_engine engine(spec, "delay");
  engine.apply_now();
  CHECK(userspace::firewall_present(engine.plan()));
  const auto during = test::measure_tcp(lab.client_ns(), netns_lab::server_ip, 7000, 15, 10);
  const auto e = engine.collect_evidence();
  engine.remove_now();

  const double connect_added = test::median(during.connect_ms) - test::median(before.connect_ms);
  const double rtt_added = test::median(during.rtt_ms) - test::median(before.rtt_ms);
  INFO("connect +" << connect_added << " ms, request rtt +" << rtt_added << " ms; evidence: " << e.summary);
  CHECK(connect_added == Approx(50).margin(3));
  CHECK(rtt_added == Approx(50).margin(3));

  CHECK(e.observed);
  CHECK(counter(e, "packets_delayed_total") >= 15 * 12);
  CHECK(counter(e, "packets_dropped_total") == 0);
  const auto& applied = e.details.at("packets").at("applied_delay");
  CHECK(applied.at("p50_ms").get<double>() == Approx(50).margin(1));
  CHECK(e.details.at("chain").get<std::string>().rfind("FAULTLINE-", 0) == 0);

  CHECK_FALSE(userspace::firewall_present(engine.plan()));
  CHECK(test::ruleset(lab.server_ns()) == rules_before);
  CHECK(test::ruleset("") == host_rules_before);
  const auto after = test::measure_tcp(lab.client_ns(), netns_lab::server_ip, 7000, 5, 5);
  CHECK(test::median(after.rtt_ms) < 10);
}

TEST_CASE("userspace: 10% loss drops 7..13% of 2000 packets", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-loss");
  test::echo_server server(lab.server_ns(), {}, 7002);
  auto spec = spec_for(lab);
  spec->loss = network::chance{0.10, 0};
  userspace::userspace_engine engine(spec, "loss");
  engine.apply_now();
  test::send_udp(lab.client_ns(), netns_lab::server_ip, 7002, 2000, 4000);
  wait_for_udp(server, 1700, 3s);
  const auto e = engine.collect_evidence();
  engine.remove_now();
  const double lost = 1.0 - static_cast<double>(server.udp_received()) / 2000.0;
  INFO("lost " << lost * 100 << "%; evidence: " << e.summary);
  CHECK(lost >= 0.07);
  CHECK(lost <= 0.13);
  CHECK(counter(e, "packets_dropped_total") == 2000 - server.udp_received());
}

TEST_CASE("userspace: traffic outside the scope is not delayed", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-scope");
  test::echo_server server(lab.server_ns(), {7000, 7001});
  const auto rules_before = test::ruleset(lab.server_ns());
  const auto before = test::measure_tcp(lab.client_ns(), netns_lab::server_ip, 7001, 5, 10);
  auto spec = spec_for(lab);
  spec->delay = 50ms;
  spec->scope.ports.push_back(7000);
  spec->scope.protocol = network::ip_protocol::tcp;
  userspace::userspace_engine engine(spec, "scoped");
  engine.apply_now();
  const auto in_scope = test::measure_tcp(lab.client_ns(), netns_lab::server_ip, 7000, 5, 10);
  const auto out_of_scope = test::measure_tcp(lab.client_ns(), netns_lab::server_ip, 7001, 5, 10);
  engine.remove_now();
  INFO("in scope rtt " << test::median(in_scope.rtt_ms) << " ms, out of scope " << test::median(out_of_scope.rtt_ms)
                       << " ms, before " << test::median(before.rtt_ms) << " ms");
  CHECK(test::median(in_scope.rtt_ms) - test::median(before.rtt_ms) == Approx(50).margin(3));
  CHECK(test::median(out_of_scope.rtt_ms) < test::median(before.rtt_ms) + 3);
  CHECK(test::median(out_of_scope.connect_ms) < test::median(before.connect_ms) + 3);
  CHECK(test::ruleset(lab.server_ns()) == rules_before);
}

TEST_CASE("userspace: duplicate sends every packet twice, corrupt makes the receiver drop them", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-dup");
  test::echo_server server(lab.server_ns(), {}, 7003);
  {
    auto spec = spec_for(lab);
    spec->duplicate = network::chance{1.0, 0};
    userspace::userspace_engine engine(spec, "dup");
    engine.apply_now();
    test::send_udp(lab.client_ns(), netns_lab::server_ip, 7003, 200, 2000);
    wait_for_udp(server, 400, 3s);
    const auto e = engine.collect_evidence();
    engine.remove_now();
    INFO(e.summary);
    CHECK(server.udp_received() == 400);
    CHECK(counter(e, "packets_duplicated_total") == 200);
  }
  server.reset_udp();
  {
    auto spec = spec_for(lab);
    spec->corrupt = network::chance{1.0, 0};
    userspace::userspace_engine engine(spec, "corrupt");
    engine.apply_now();
    test::send_udp(lab.client_ns(), netns_lab::server_ip, 7003, 200, 2000);
    std::this_thread::sleep_for(500ms);
    const auto e = engine.collect_evidence();
    engine.remove_now();
    INFO(e.summary);
    CHECK(counter(e, "packets_corrupted_total") == 200);
    CHECK(server.udp_received() <= 2);  // the UDP checksum catches the flipped bit
  }
}

TEST_CASE("userspace: packets held when the fault ends are passed on at once, not dropped", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-held");
  test::echo_server server(lab.server_ns(), {}, 7006);
  const auto rules_before = test::ruleset(lab.server_ns());
  // 5 s of delay: every packet is still held when the fault ends 0.3 s after the last was sent.
  for (bool by_revert : {true, false}) {
    server.reset_udp();
    auto spec = spec_for(lab);
    spec->delay = 5s;
    auto engine = std::make_unique<userspace::userspace_engine>(spec, "held");
    engine->apply_now();
    const auto sent = std::chrono::steady_clock::now();
    test::send_udp(lab.client_ns(), netns_lab::server_ip, 7006, 100, 1000);
    std::this_thread::sleep_for(300ms);
    CHECK(server.udp_received() == 0);
    const auto held = counter(engine->collect_evidence(), "packets_delayed_total");
    if (by_revert) engine->remove_now();
    const auto e = engine->collect_evidence();
    engine.reset();  // on exit the destructor ends the fault the same way
    wait_for_udp(server, 100, 2s);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    INFO((by_revert ? "revert" : "destructor") << ": " << server.udp_received() << " received after " << seconds << " s; " << e.summary);
    CHECK(held == 100);
    CHECK(server.udp_received() == 100);
    CHECK(seconds < 4);  // released by the end of the fault, not at their due time
    if (by_revert) CHECK(counter(e, "packets_released_total") == 100);
    CHECK(test::ruleset(lab.server_ns()) == rules_before);
  }
}

TEST_CASE("userspace: jittered packets overtake each other unless keep_order", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-order");
  test::echo_server server(lab.server_ns(), {}, 7004);
  for (bool keep : {false, true}) {
    server.reset_udp();
    auto spec = spec_for(lab);
    spec->delay = 20ms;
    spec->jitter = 10ms;
    spec->keep_order = keep;
    userspace::userspace_engine engine(spec, "jitter");
    engine.apply_now();
    test::send_udp(lab.client_ns(), netns_lab::server_ip, 7004, 500, 5000);
    wait_for_udp(server, 500, 3s);
    engine.remove_now();
    const auto seq = server.udp_sequence();
    INFO("keep_order " << keep << ": " << seq.size() << " received, " << inversions(seq) << " out of order");
    CHECK(seq.size() == 500);
    if (keep) CHECK(inversions(seq) == 0);
    else CHECK(inversions(seq) > 50);
  }
}

TEST_CASE("userspace: rate limits through tbf and the qdisc tree is restored", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-rate");
  const auto tree_before = test::qdiscs(lab.server_ns(), lab.server_dev());
  auto spec = spec_for(lab);
  spec->rate = 1e6;  // bytes per second
  userspace::userspace_engine engine(spec, "rate");
  engine.apply_now();
  CHECK(test::qdiscs(lab.server_ns(), lab.server_dev()).find("tbf") != std::string::npos);
  const double seconds = download_seconds(lab, 7005, 1'000'000);
  const auto e = engine.collect_evidence();
  engine.remove_now();
  INFO("1 MB in " << seconds << " s; " << e.summary);
  CHECK(seconds > 0.85);
  CHECK(seconds < 1.6);
  CHECK(e.observed);
  CHECK(test::qdiscs(lab.server_ns(), lab.server_dev()) == tree_before);
}

TEST_CASE("userspace: engine selection records which engine ran", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-auto");
  auto spec = spec_for(lab);
  spec->delay = 10ms;
  spec->engine = network::engine_choice::auto_select;
  const std::vector<network::engine_kind> engines{network::engine_kind{"netem", [] { return std::string("no sch_netem here"); }, {}, {}},
                                                  userspace::userspace_engine_kind()};
  const auto& chosen = network::select_engine(*spec, engines);
  CHECK(chosen.name == "userspace");
  fault_context ctx;
  ctx.target = lab.server_dev();
  ctx.step_name = "auto";
  auto engine = chosen.create(spec, ctx);
  auto* userspace_engine = dynamic_cast<userspace::userspace_engine*>(engine.get());
  REQUIRE(userspace_engine);
  network::network_fault f(spec, std::move(engine));
  CHECK(f.engine() == "userspace");
  CHECK(f.undo_record().at("engine") == "userspace");

  // inject() and revert() as the runner awaits them, on its event loop.
  const auto rules_before = test::ruleset(lab.server_ns());
  boost::asio::io_context io;
  auto run = [&io](boost::asio::awaitable<void> a) {
    auto done = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
    io.run();
    io.restart();
    done.get();
  };
  run(f.inject());
  CHECK(userspace::firewall_present(userspace_engine->plan()));
  CHECK(f.collect_evidence().details.at("engine") == "userspace");
  run(f.revert());
  CHECK_FALSE(userspace::firewall_present(userspace_engine->plan()));
  CHECK(test::ruleset(lab.server_ns()) == rules_before);
}

TEST_CASE("userspace: a SIGKILLed run leaves nothing `faultline recover` cannot remove", "[faults][netns]") {
  SKIP_WITHOUT_NETNS();
  netns_lab lab("us-kill");
  test::echo_server server(lab.server_ns(), {7000});
  const auto rules_before = test::ruleset(lab.server_ns());
  const auto host_rules_before = test::ruleset("");
  const auto tree_before = test::qdiscs(lab.server_ns(), lab.server_dev());
  const auto dir = std::filesystem::temp_directory_path() / ("faultline-us-kill-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto state = (dir / "state.json").string();

  int out[2];
  REQUIRE(::pipe(out) == 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execl(USERSPACE_INJECT_HELPER, "userspace_inject_helper", state.c_str(), lab.server_ns().c_str(), lab.server_dev().c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string said;
  char buf[256];
  for (ssize_t n; said.find("injected") == std::string::npos && (n = ::read(out[0], buf, sizeof buf)) > 0;) said.append(buf, n);
  ::close(out[0]);
  REQUIRE(said.find("injected") != std::string::npos);

  CHECK(test::ruleset(lab.server_ns()).find("FAULTLINE-") != std::string::npos);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);

  // No reader any more: with --queue-bypass the rules let packets through until recover.
  CHECK(test::median(test::measure_tcp(lab.client_ns(), netns_lab::server_ip, 7000, 3, 3).rtt_ms) < 10);
  CHECK(test::ruleset(lab.server_ns()) != rules_before);

  auto recovered = test::run_command(test::faultline_binary() + " recover --state-file " + state);
  INFO(recovered.output);
  CHECK(recovered.exit_code == 0);
  CHECK(test::ruleset(lab.server_ns()) == rules_before);
  CHECK(test::ruleset("") == host_rules_before);
  CHECK(test::qdiscs(lab.server_ns(), lab.server_dev()) == tree_before);
  std::filesystem::remove_all(dir);
}
