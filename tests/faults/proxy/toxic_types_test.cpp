// The toxic fault types: validation, and faults that inject into a real proxy_set, revert, and
// report what they did (observed only when an effect was seen).
#include "faults/fault.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "tests/faults/proxy/loopback.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

using namespace faultline::test;
using namespace std::chrono_literals;
namespace fp = faultline::proxy;
namespace ff = faultline::faults;
using faultline::params;

namespace {

const ff::fault_type& type(const char* name) {
  static ff::fault_registry registry = [] {
    ff::fault_registry r;
    ff::register_builtin_faults(r);
    return r;
  }();
  auto* t = registry.find(name);
  REQUIRE(t);
  return *t;
}

// Fills in the defaults of a type's schema, then the given values.
params with_defaults(const ff::fault_type& t, std::map<std::string, faultline::param_value> values) {
  params p;
  for (const auto& spec : t.params)
    if (spec.default_value) p.set(spec.name, *spec.default_value);
  for (auto& [k, v] : values) p.set(k, v);
  return p;
}

// Runs an awaitable on its own io_context to completion.
template <typename T>
void run(asio::io_context& ioc, asio::awaitable<T> a) {
  auto f = asio::co_spawn(ioc, std::move(a), asio::use_future);
  ioc.restart();
  ioc.run();
  f.get();
}

}  // namespace

TEST_CASE("every toxic fault type has a factory and down is exclusive", "[faults][proxy]") {
  for (auto name : {"latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "blackhole", "down"}) {
    INFO(name);
    CHECK(type(name).create);
    CHECK(type(name).target == ff::target_kind::proxy);
  }
  CHECK(type("down").exclusive);
  CHECK_FALSE(type("latency").exclusive);
}

TEST_CASE("toxic fault types reject combinations that cannot work", "[faults][proxy]") {
  auto& latency = type("latency");
  CHECK_THROWS_WITH(latency.validate(with_defaults(latency, {{"latency", std::chrono::nanoseconds(100ms)}, {"jitter", std::chrono::nanoseconds(200ms)}})),
                    "jitter (200ms) is larger than latency (100ms): delays would be cut off at 0; make jitter at most the latency");
  CHECK_NOTHROW(latency.validate(with_defaults(latency, {{"latency", std::chrono::nanoseconds(100ms)}, {"jitter", std::chrono::nanoseconds(100ms)}})));
  auto& slicer = type("slicer");
  CHECK_THROWS_AS(slicer.validate(with_defaults(slicer, {{"average_size", std::int64_t(10)}, {"size_variation", std::int64_t(10)}})),
                  faultline::param_error);
}

TEST_CASE("a latency fault injects into the proxy, is observed, and reverts", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = set.add({"db", "127.0.0.1:0", echo.address()});
  asio::io_context ioc;
  ff::fault_context ctx{ioc.get_executor(), &set, "db", "slow-db"};
  auto& t = type("latency");
  auto fault = t.create(with_defaults(t, {{"latency", std::chrono::nanoseconds(50ms)}}), ctx);

  CHECK_FALSE(fault->collect_evidence().observed);
  run(ioc, fault->inject());
  REQUIRE(set.toxics("db").size() == 1);
  CHECK(set.toxics("db")[0].name == "slow-db");
  CHECK_FALSE(fault->collect_evidence().observed);  // requested, nothing delayed yet

  auto s = connect_to(ioc, info.listen);
  auto start = std::chrono::steady_clock::now();
  asio::write(s, asio::buffer(std::string("q")));
  boost::system::error_code ec;
  CHECK(read_exactly(s, 1, ec) == "q");
  CHECK(std::chrono::steady_clock::now() - start >= 50ms);

  auto e = fault->collect_evidence();
  CHECK(e.observed);
  CHECK(e.summary.find("1 chunk") == 0);
  CHECK(e.details["chunks_delayed_total"] == 1);
  CHECK(e.details["attributes"]["latency"] == 50);
  CHECK(e.details["stream"] == "downstream");

  run(ioc, fault->revert());
  CHECK(set.toxics("db").empty());
  CHECK(fault->collect_evidence().observed);  // the evidence outlives the toxic
  run(ioc, fault->revert());                  // reverting twice is harmless
}

TEST_CASE("a down fault refuses connections, proves it, and listens again on revert", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  auto info = set.add({"cache", "127.0.0.1:0", echo.address()});
  asio::io_context ioc;
  ff::fault_context ctx{ioc.get_executor(), &set, "cache", "outage"};
  auto fault = type("down").create(params{}, ctx);
  run(ioc, fault->inject());
  auto e = fault->collect_evidence();
  CHECK(e.observed);
  CHECK(e.details["connect_check"] == "refused");
  CHECK_FALSE(set.find("cache")->enabled);
  run(ioc, fault->revert());
  CHECK(set.find("cache")->enabled);
  auto s = connect_to(ioc, info.listen);
  asio::write(s, asio::buffer(std::string("ok")));
  boost::system::error_code ec;
  CHECK(read_exactly(s, 2, ec) == "ok");
}

TEST_CASE("a fault on a missing proxy fails with a clear error", "[faults][proxy]") {
  fp::proxy_set set;
  asio::io_context ioc;
  ff::fault_context ctx{ioc.get_executor(), &set, "nope", "step"};
  auto& t = type("timeout");
  auto fault = t.create(with_defaults(t, {}), ctx);
  CHECK_THROWS_WITH(run(ioc, fault->inject()), "timeout on proxy 'nope': proxy not found");
}
