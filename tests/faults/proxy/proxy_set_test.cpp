// proxy_set on real loopback sockets: many proxies, live toxics, half-close, big transfers,
// resets, down, and removing toxics under load. Bounds are generous: the machine is busy.
#include "faults/proxy/bandwidth.hpp"
#include "faults/proxy/latency.hpp"
#include "faults/proxy/limit_data.hpp"
#include "faults/proxy/noop.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/reset_peer.hpp"
#include "faults/proxy/slicer.hpp"
#include "faults/proxy/slow_close.hpp"
#include "faults/proxy/timeout.hpp"
#include "tests/faults/proxy/line_protocol.hpp"
#include "tests/faults/proxy/loopback.hpp"
#include "tests/support/eventually.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace faultline::test;
using namespace std::chrono_literals;
namespace fp = faultline::proxy;
using fp::direction;

namespace {

fp::proxy_info add_proxy(fp::proxy_set& set, const std::string& name, const std::string& upstream) {
  fp::proxy_config c;
  c.name = name;
  c.upstream = upstream;
  return set.add(c);
}

fp::installed_toxic spec(std::shared_ptr<const fp::toxic_config> config, direction d = direction::downstream, std::string name = "") {
  return {std::move(name), d, 1.0, std::move(config)};
}

}  // namespace

TEST_CASE("a proxy on port 0 reports its port and forwards both ways", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = add_proxy(set, "echo", echo.address());
  CHECK(info.listen.rfind("127.0.0.1:", 0) == 0);
  CHECK(info.listen != "127.0.0.1:0");
  CHECK(info.enabled);
  asio::io_context ioc;
  auto s = connect_to(ioc, info.listen);
  asio::write(s, asio::buffer(std::string("ping")));
  boost::system::error_code ec;
  CHECK(read_exactly(s, 4, ec) == "ping");
  CHECK(eventually([&] { return set.stats("echo").upstream.bytes_sent_total == 4 && set.stats("echo").downstream.bytes_sent_total == 4; }));
  CHECK(set.stats("echo").connections_active == 1);
  s.close();
  CHECK(eventually([&] { return set.stats("echo").connections_active == 0; }));
  CHECK(set.stats("echo").connections_closed_total == 1);
}

TEST_CASE("65535 sequential values pass intact while a latency toxic is added and removed in a tight loop", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = add_proxy(set, "seq", echo.address());
  asio::io_context ioc;
  auto s = connect_to(ioc, info.listen, 30s);
  std::atomic<bool> done{false};
  auto reader = std::async(std::launch::async, [&] {
    boost::system::error_code ec;
    auto got = read_exactly(s, 65535 * 2, ec);
    done = true;
    if (ec) return std::string("read failed: ") + ec.message();
    for (std::uint32_t v = 0; v < 65535; ++v) {
      auto hi = static_cast<unsigned char>(got[v * 2]), lo = static_cast<unsigned char>(got[v * 2 + 1]);
      if (static_cast<std::uint32_t>(hi << 8 | lo) != v) return "value " + std::to_string(v) + " out of order";
    }
    return std::string();
  });
  auto writer = std::async(std::launch::async, [&] {
    for (std::uint32_t v = 0; v < 65535; ++v) {
      unsigned char b[2] = {static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v & 0xff)};
      asio::write(s, asio::buffer(b, 2));
    }
  });
  std::size_t toggles = 0;
  while (!done) {
    auto d = toggles % 2 ? direction::upstream : direction::downstream;
    set.add_toxic("seq", spec(std::make_shared<fp::latency_toxic>(1ms, 1ms), d, "toggle"));
    set.remove_toxic("seq", "toggle");
    ++toggles;
  }
  writer.get();
  CHECK(reader.get().empty());
  CHECK(toggles > 10);
}

TEST_CASE("64 MiB through every non-dropping toxic keeps its checksum", "[faults][proxy]") {
  loopback_server sink(loopback_server::mode::sink);
  fp::proxy_set set;
  auto info = add_proxy(set, "bulk", sink.address());
  struct named {
    const char* what;
    std::shared_ptr<const fp::toxic_config> config;
  };
  std::vector<named> toxics{
      {"none", nullptr},
      {"noop", std::make_shared<fp::noop_toxic>()},
      {"latency", std::make_shared<fp::latency_toxic>(5ms, 2ms)},
      {"bandwidth", std::make_shared<fp::bandwidth_toxic>(400e6)},
      {"slow_close", std::make_shared<fp::slow_close_toxic>(50ms)},
      {"slicer", std::make_shared<fp::slicer_toxic>(32 * 1024, 16 * 1024, 0us)},
      {"limit_data", std::make_shared<fp::limit_data_toxic>(1ULL << 40)},
  };
  std::string block(1 << 20, '\0');
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>((i * 2654435761u) >> 13);
  for (const auto& t : toxics) {
    DYNAMIC_SECTION(t.what) {
      if (t.config) set.add_toxic("bulk", spec(t.config, direction::upstream, "under_test"));
      asio::io_context ioc;
      auto s = connect_to(ioc, info.listen, 60s);
      checksum sent;
      for (int i = 0; i < 64; ++i) {
        block[0] = static_cast<char>(i);  // every MiB differs
        sent.add(block.data(), block.size());
        asio::write(s, asio::buffer(block));
      }
      s.shutdown(tcp::socket::shutdown_send);  // the sink answers after our FIN: half-close
      auto [answer, ec] = read_to_end(s);
      CHECK(ec == asio::error::eof);
      CHECK(answer == std::to_string(sent.bytes) + " " + std::to_string(sent.value) + "\n");
      // Without a toxic the bulk moves by splice(2); with one, every byte goes through it.
      if (t.config) CHECK(set.stats("bulk").upstream.bytes_spliced_total == 0);
      else CHECK(set.stats("bulk").upstream.bytes_spliced_total > 0);
      CHECK(set.stats("bulk").upstream.bytes_sent_total == sent.bytes);
      if (t.config) set.remove_toxic("bulk", "under_test");
    }
  }
}

TEST_CASE("half-close: the client's FIN reaches the server and the answer still comes back", "[faults][proxy]") {
  loopback_server sink(loopback_server::mode::sink);
  fp::proxy_set set;
  auto info = add_proxy(set, "half", sink.address());
  asio::io_context ioc;
  auto s = connect_to(ioc, info.listen);
  asio::write(s, asio::buffer(std::string("abc")));
  s.shutdown(tcp::socket::shutdown_send);
  auto [answer, ec] = read_to_end(s);
  checksum expected;
  expected.add("abc", 3);
  CHECK(answer == "3 " + std::to_string(expected.value) + "\n");
  CHECK(ec == asio::error::eof);
}

TEST_CASE("removing a toxic while 500 connections stream returns within 100 ms", "[faults][proxy]") {
  loopback_server sink(loopback_server::mode::sink);
  fp::proxy_set set;
  auto info = add_proxy(set, "busy", sink.address());
  set.add_toxic("busy", spec(std::make_shared<fp::latency_toxic>(20ms, 5ms), direction::upstream, "slow"));

  // 500 clients writing as fast as the proxy takes it, on one thread of their own.
  asio::io_context clients;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> written{0};
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  auto colon = info.listen.rfind(':');
  tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), static_cast<std::uint16_t>(std::stoi(info.listen.substr(colon + 1))));
  for (int i = 0; i < 500; ++i) {
    auto sock = std::make_shared<tcp::socket>(clients);
    sock->connect(ep);
    sockets.push_back(sock);
    asio::co_spawn(clients, [sock, &stop, &written]() -> asio::awaitable<void> {
      std::string data(16 * 1024, 'x');
      while (!stop) {
        auto [ec, n] = co_await asio::async_write(*sock, asio::buffer(data), asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        written += n;
      }
    }, asio::detached);
  }
  // Every connection accepted before data moves: the proxy's busy threads would otherwise accept
  // the rest slowly (under ThreadSanitizer only 197 of 500 in 20 s).
  REQUIRE(eventually([&] { return set.stats("busy").connections_active == 500; }, 20s));
  // Stops the clients and joins their thread however the test ends, a failed REQUIRE included.
  struct clients_thread {
    asio::io_context& ioc;
    std::thread thread;
    ~clients_thread() {
      ioc.stop();
      thread.join();
    }
  } runner{clients, std::thread([&] { clients.run(); })};
  REQUIRE(eventually([&] { return written.load() > 50u << 20; }, 30s));

  auto start = std::chrono::steady_clock::now();
  set.remove_toxic("busy", "slow");
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 100ms);
  CHECK(set.toxics("busy").empty());

  // Traffic keeps flowing after the removal.
  auto before = set.stats("busy").upstream.bytes_sent_total;
  CHECK(eventually([&] { return set.stats("busy").upstream.bytes_sent_total > before + (10u << 20); }, 20s));
  stop = true;
  for (auto& sock : sockets) asio::post(clients, [sock] {
      boost::system::error_code ignored;
      sock->close(ignored);
    });
}

TEST_CASE("reset_peer makes the client see ECONNRESET", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = add_proxy(set, "rst", echo.address());
  set.add_toxic("rst", spec(std::make_shared<fp::reset_peer_toxic>(0ms), direction::upstream));
  asio::io_context ioc;
  auto s = connect_to(ioc, info.listen);
  asio::write(s, asio::buffer(std::string("reset toxic payload\n")));
  auto [got, ec] = read_to_end(s);
  CHECK(got.empty());
  CHECK(ec == asio::error::connection_reset);
}

TEST_CASE("removing a timeout toxic closes both ends", "[faults][proxy]") {
  fp::proxy_set set;
  asio::io_context ioc;
  tcp::acceptor upstream(ioc, {asio::ip::address_v4::loopback(), 0});
  auto info = add_proxy(set, "to", "127.0.0.1:" + std::to_string(upstream.local_endpoint().port()));
  auto client = connect_to(ioc, info.listen);
  auto server = upstream.accept();
  timeval tv{5, 0};
  ::setsockopt(server.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // The upstream accept can return before the proxy has finished dialing: a toxic added and
  // removed before the proxy registers the connection never applies to it.
  REQUIRE(eventually([&] { return set.stats("to").connections_active == 1; }));
  set.add_toxic("to", spec(std::make_shared<fp::timeout_toxic>(0ms), direction::upstream, "to_delete"));
  set.remove_toxic("to", "to_delete");
  auto [c, cec] = read_to_end(client);
  auto [s, sec] = read_to_end(server);
  CHECK(cec == asio::error::eof);
  CHECK(sec == asio::error::eof);
}

TEST_CASE("disabled proxies refuse connections and drop existing ones, enabling listens again", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = add_proxy(set, "d", echo.address());
  asio::io_context ioc;
  auto open = connect_to(ioc, info.listen);
  REQUIRE(eventually([&] { return set.stats("d").connections_active == 1; }));
  set.set_enabled("d", false);
  CHECK_FALSE(set.find("d")->enabled);
  CHECK_THROWS(connect_to(ioc, info.listen));
  auto [rest, ec] = read_to_end(open);
  CHECK(ec == asio::error::eof);
  set.set_enabled("d", true);
  CHECK(set.find("d")->listen == info.listen);  // the same port again
  auto again = connect_to(ioc, info.listen);
  asio::write(again, asio::buffer(std::string("up")));
  boost::system::error_code rec;
  CHECK(read_exactly(again, 2, rec) == "up");
}

TEST_CASE("remove() closes the listener before it returns", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = add_proxy(set, "gone", echo.address());
  set.remove("gone");
  asio::io_context ioc;
  CHECK_THROWS(connect_to(ioc, info.listen));
  CHECK_FALSE(set.find("gone"));
  CHECK_THROWS_AS(set.remove("gone"), fp::proxy_error);
}

TEST_CASE("errors name the problem in Toxiproxy's words", "[faults][proxy]") {
  fp::proxy_set set;
  auto a = add_proxy(set, "a", "127.0.0.1:1");
  auto expect = [&](auto f, fp::proxy_error::kind kind, const std::string& message) {
    try {
      f();
      FAIL("no error");
    } catch (const fp::proxy_error& e) {
      CHECK(e.what_kind() == kind);
      CHECK(std::string(e.what()) == message);
    }
  };
  fp::proxy_config clash{"b", a.listen, "127.0.0.1:1"};
  expect([&] { set.add(clash); }, fp::proxy_error::kind::listen_failed, "listen tcp " + a.listen + ": bind: address already in use");
  expect([&] { add_proxy(set, "a", "127.0.0.1:1"); }, fp::proxy_error::kind::already_exists, "proxy already exists");
  expect([&] { set.add({"", "127.0.0.1:0", "x:1"}); }, fp::proxy_error::kind::invalid, "missing required field: name");
  expect([&] { set.add({"n", "127.0.0.1:0", ""}); }, fp::proxy_error::kind::invalid, "missing required field: upstream");
  expect([&] { set.add({"n", "local373", "x:1"}); }, fp::proxy_error::kind::listen_failed, "listen tcp: address local373: missing port in address");
  expect([&] { set.remove_toxic("a", "nope"); }, fp::proxy_error::kind::toxic_not_found, "toxic not found");
  expect([&] { set.toxics("nope"); }, fp::proxy_error::kind::not_found, "proxy not found");
  set.add_toxic("a", spec(std::make_shared<fp::noop_toxic>()));
  expect([&] { set.add_toxic("a", spec(std::make_shared<fp::latency_toxic>(0ms, 0ms), direction::downstream, "noop_downstream")); },
         fp::proxy_error::kind::toxic_exists, "toxic already exists");
  expect([&] { set.add_toxic("a", {"t", direction::upstream, 1.5, std::make_shared<fp::noop_toxic>()}); },
         fp::proxy_error::kind::invalid, "toxicity must be between 0 and 1, got 1.5");
  fp::proxy_config open{"wide", "0.0.0.0:0", "127.0.0.1:1"};
  CHECK_THROWS_AS(set.add(open), fp::proxy_error);
  fp::proxy_config my{"my", "127.0.0.1:0", "127.0.0.1:1", true, "mysql"};
  expect([&] { set.add(my); }, fp::proxy_error::kind::invalid,
         "proxy 'my' has protocol 'mysql', which this build does not know (known: http, postgres, redis, tcp)");
}

TEST_CASE("toxics are listed upstream first, each direction in the order added", "[faults][proxy]") {
  fp::proxy_set set;
  add_proxy(set, "order", "127.0.0.1:1");
  set.add_toxic("order", spec(std::make_shared<fp::noop_toxic>(), direction::downstream, "d1"));
  set.add_toxic("order", spec(std::make_shared<fp::noop_toxic>(), direction::upstream, "u1"));
  set.add_toxic("order", spec(std::make_shared<fp::noop_toxic>(), direction::downstream, "d2"));
  std::vector<std::string> names;
  for (const auto& t : set.toxics("order")) names.push_back(t.name);
  CHECK(names == std::vector<std::string>{"u1", "d1", "d2"});
  set.reset();
  CHECK(set.toxics("order").empty());
}

TEST_CASE("an unreachable upstream closes the client and is counted", "[faults][proxy]") {
  asio::io_context ioc;
  std::uint16_t dead_port;
  {
    tcp::acceptor probe(ioc, {asio::ip::address_v4::loopback(), 0});
    dead_port = probe.local_endpoint().port();
  }
  fp::proxy_set set;
  auto info = add_proxy(set, "dead", "127.0.0.1:" + std::to_string(dead_port));
  auto s = connect_to(ioc, info.listen);
  auto [got, ec] = read_to_end(s);
  CHECK(got.empty());
  CHECK(eventually([&] { return set.stats("dead").upstream_connect_failures_total == 1; }));
}

TEST_CASE("a protocol registered with the set owns its connections and receives message-level toxics", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  auto protocols = std::make_shared<fp::protocol_registry>();
  fp::register_builtin_protocols(*protocols);
  protocols->add(std::make_shared<line_protocol>());
  fp::proxy_set::options o;
  o.protocols = protocols;
  fp::proxy_set set(o);
  fp::proxy_config c{"lines", "127.0.0.1:0", echo.address(), true, "line"};
  auto info = set.add(c);
  CHECK(info.protocol == "line");
  // A message-level toxic needs a proxy of its protocol.
  add_proxy(set, "plain", echo.address());
  CHECK_THROWS_WITH(set.add_toxic("plain", spec(std::make_shared<answer_line>("PING", "+PONG"), direction::upstream, "ping")),
                    "toxic type 'answer_line' needs a proxy with protocol line, but proxy 'plain' has protocol tcp");

  asio::io_context ioc;
  auto s = connect_to(ioc, info.listen);  // connected before the toxic: live sessions get it too
  REQUIRE(eventually([&] { return set.stats("lines").connections_active == 1; }));
  auto t = set.add_toxic("lines", spec(std::make_shared<answer_line>("PING", "+PONG"), direction::upstream, "ping"));
  set.add_toxic("lines", spec(std::make_shared<fp::latency_toxic>(20ms, 0ms), direction::downstream, "slow"));
  boost::system::error_code ec;
  // Toxic changes reach live connections on their own thread: ask until the answer changes.
  auto ping_until = [&](const std::string& wanted) {
    for (int i = 0; i < 200; ++i) {
      asio::write(s, asio::buffer(std::string("PING\n")));
      auto got = read_exactly(s, 5, ec);
      if (got == "PING\n" && wanted != got) continue;  // the server's echo: not applied yet
      if (got == "+PONG") got += read_exactly(s, 1, ec);
      return got == wanted;
    }
    return false;
  };
  CHECK(ping_until("+PONG\n"));  // answered by the session itself, through the latency toxic
  CHECK(t.counters->snapshot().chunks_in_total >= 1);
  asio::write(s, asio::buffer(std::string("GET a\n")));
  CHECK(read_exactly(s, 6, ec) == "GET a\n");  // other lines reach the server, which echoes them
  set.remove_toxic("lines", "ping");
  CHECK(ping_until("PING\n"));  // now the server answers
}

TEST_CASE("toxics added and removed during a bulk transfer take effect and lose no byte", "[faults][proxy]") {
  for (bool zero_copy : {true, false}) {
    INFO("zero_copy " << zero_copy);
    loopback_server sink(loopback_server::mode::sink);
    fp::proxy_set::options o;
    o.zero_copy = zero_copy;
    fp::proxy_set set(o);
    auto info = add_proxy(set, "bulk", sink.address());
    asio::io_context ioc;
    auto s = connect_to(ioc, info.listen, 60s);
    std::string block(256 * 1024, '\0');
    checksum sent;
    std::vector<fp::installed_toxic> added;
    for (int i = 0; i < 128; ++i) {  // 32 MiB
      for (std::size_t k = 0; k < block.size(); k += 4096) block[k] = static_cast<char>(i + k);
      sent.add(block.data(), block.size());
      asio::write(s, asio::buffer(block));
      if (i % 32 == 8) added.push_back(set.add_toxic("bulk", spec(std::make_shared<fp::latency_toxic>(1ms, 0ms), direction::upstream, "mid")));
      if (i % 32 == 24) {  // once it acted: it may only see bytes the proxy reads after it came
        CHECK(eventually([&] { return added.back().counters->snapshot().chunks_delayed_total > 0; }, 20s));
        set.remove_toxic("bulk", "mid");
      }
    }
    s.shutdown(tcp::socket::shutdown_send);
    auto [answer, ec] = read_to_end(s);
    CHECK(answer == std::to_string(sent.bytes) + " " + std::to_string(sent.value) + "\n");
    REQUIRE(added.size() == 4);
    for (const auto& t : added) CHECK(t.counters->snapshot().chunks_delayed_total > 0);  // each one acted
    auto stats = set.stats("bulk");
    CHECK(stats.upstream.bytes_received_total == sent.bytes);
    CHECK(stats.upstream.bytes_sent_total == sent.bytes);
    if (zero_copy) {  // between the toxics' spells the link went back to splicing, and not during them
      CHECK(stats.upstream.bytes_spliced_total > 0);
      CHECK(stats.upstream.bytes_spliced_total < sent.bytes);
    } else {
      CHECK(stats.upstream.bytes_spliced_total == 0);
    }
  }
}

TEST_CASE("server-to-client bulk through an echo server switches between splice and toxics in order", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = add_proxy(set, "echo", echo.address());
  asio::io_context ioc;
  auto s = connect_to(ioc, info.listen, 60s);
  constexpr int blocks = 96;  // 24 MiB each way
  std::string block(256 * 1024, '\0');
  checksum sent;
  fp::installed_toxic late;
  auto reader = std::async(std::launch::async, [&] {
    checksum got;
    std::vector<char> buf(64 * 1024);
    boost::system::error_code ec;
    for (;;) {
      auto n = recv_some(s, buf.data(), buf.size(), ec);
      got.add(buf.data(), n);
      if (ec) break;
    }
    return std::pair{got, ec};
  });
  for (int i = 0; i < blocks; ++i) {
    for (std::size_t k = 0; k < block.size(); k += 1000) block[k] = static_cast<char>(i * 7 + k);
    sent.add(block.data(), block.size());
    asio::write(s, asio::buffer(block));
    if (i % 24 == 6) late = set.add_toxic("echo", spec(std::make_shared<fp::latency_toxic>(2ms, 1ms), direction::downstream, "late"));
    if (i % 24 == 18) {
      CHECK(eventually([&] { return late.counters->snapshot().chunks_delayed_total > 0; }, 20s));
      set.remove_toxic("echo", "late");
    }
  }
  s.shutdown(tcp::socket::shutdown_send);  // the echo server ends after our FIN: half-close both ways
  auto [got, ec] = reader.get();
  CHECK(ec == asio::error::eof);
  CHECK(got.bytes == sent.bytes);
  CHECK(got.value == sent.value);
  auto stats = set.stats("echo");
  CHECK(stats.downstream.bytes_sent_total == sent.bytes);
  CHECK(stats.downstream.bytes_spliced_total > 0);
  CHECK(stats.downstream.bytes_spliced_total < sent.bytes);
  CHECK(stats.upstream.bytes_sent_total == sent.bytes);
}

TEST_CASE("a latency toxic on the real clock never releases early, with the early wake-up and its polling", "[faults][proxy]") {
  // Waits over 1 ms wake the connection's thread 100 us early, which then polls: each reply must
  // still come after its full latency, and in order. Lateness is not bounded here (busy machine).
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = add_proxy(set, "echo", echo.address());
  asio::io_context ioc;
  auto s = connect_to(ioc, info.listen);
  boost::system::error_code ec;
  asio::write(s, asio::buffer(std::string("warm")));
  REQUIRE(read_exactly(s, 4, ec) == "warm");
  set.add_toxic("echo", spec(std::make_shared<fp::latency_toxic>(3ms, 0ms), direction::downstream, "slow"));
  // The toxic reaches the live connection on its own thread: wait until a reply takes 3 ms.
  int early = 0;
  bool slowed = false;
  for (int i = 0; i < 200 && !slowed; ++i) {
    auto start = std::chrono::steady_clock::now();
    asio::write(s, asio::buffer(std::string("x")));
    REQUIRE(read_exactly(s, 1, ec) == "x");
    slowed = std::chrono::steady_clock::now() - start >= 3ms;
  }
  REQUIRE(slowed);
  for (int i = 0; i < 40; ++i) {
    const std::string msg = "m" + std::to_string(i % 10);
    auto start = std::chrono::steady_clock::now();
    asio::write(s, asio::buffer(msg));
    REQUIRE(read_exactly(s, msg.size(), ec) == msg);
    if (std::chrono::steady_clock::now() - start < 3ms) ++early;
  }
  CHECK(early == 0);
}

TEST_CASE("an upstream given by host name is dialled", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = add_proxy(set, "named", "localhost:" + std::to_string(echo.port()));
  asio::io_context ioc;
  auto s = connect_to(ioc, info.listen);
  asio::write(s, asio::buffer(std::string("ping")));
  boost::system::error_code ec;
  CHECK(read_exactly(s, 4, ec) == "ping");
}
