#include "faults/storm/connection_storm.hpp"

#include "faults/proxy/proxy_set.hpp"
#include "faults/storm/worker_process.hpp"
#include "tests/faults/storm/hold_server.hpp"
#include "tests/faults/storm/run_async.hpp"
#include "tests/support/eventually.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace faultline;
using namespace faultline::storm;
using faultline::test::eventually_async;
using faultline::test::hold_server;
using faultline::test::run_async;
using boost::asio::awaitable;
using boost::asio::io_context;
using namespace std::chrono_literals;

namespace {

const faults::fault_type& storm_type() {
  static const auto types = storm_fault_types();
  return types.front();
}

params storm_params_with(std::int64_t connections) {
  params p;
  for (const auto& spec : storm_type().params)
    if (spec.default_value) p.set(spec.name, *spec.default_value);
  p.set("connections", connections);
  return p;
}

// Workers run the faultline binary built with the tests (this test binary has no worker mode).
struct worker_program {
  worker_program() { ::setenv("FAULTLINE_STORM_WORKER", FAULTLINE_BINARY, 1); }
  ~worker_program() { ::unsetenv("FAULTLINE_STORM_WORKER"); }
};

}  // namespace

TEST_CASE("connection_storm is a registered fault type with its parameters", "[faults][storm]") {
  faults::fault_registry registry;
  faults::register_builtin_faults(registry);
  const auto* t = registry.find("connection_storm");
  REQUIRE(t);
  CHECK(t->family == "storm");
  CHECK(t->target == faults::target_kind::address);
  CHECK(t->undo);
  std::vector<std::string> names;
  for (const auto& p : t->params) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"connections", "rate", "handshake", "hold", "churn", "timeout",
                                          "source_addresses", "max_pending", "workers", "path", "user", "database"});
}

TEST_CASE("connection_storm: inject holds, evidence proves it, revert closes everything and ends the workers",
          "[faults][storm]") {
  worker_program program;
  hold_server server;
  faults::fault_context ctx;
  ctx.target = server.address();
  ctx.step_name = "storm-1";
  run_async([&](io_context& io) -> awaitable<void> {
    ctx.executor = io.get_executor();
    auto fault = storm_type().create(storm_params_with(200), ctx);
    fault->preflight();
    const auto undo = fault->undo_record();
    REQUIRE(undo["workers"].size() == 1);
    const auto worker = process_id_from_json(undo["workers"][0]);
    CHECK(process_alive(worker));
    CHECK(server.snapshot().accepted == 0);  // nothing before inject

    co_await fault->inject();
    REQUIRE(co_await eventually_async([&] { return server.snapshot().held == 200; }));
    REQUIRE(co_await eventually_async([&] { return fault->collect_evidence().details["peak_held"] == 200; }));
    auto during = fault->collect_evidence();
    CHECK(during.observed);
    CHECK(during.summary.rfind("200 connections held at peak; 200 attempts: 200 established; connect p99", 0) == 0);
    CHECK(during.details["outcomes"]["established"] == 200);
    CHECK(during.details["mode"] == "hold");

    co_await fault->revert();
    auto after = fault->collect_evidence();
    CHECK(after.details["closed_by_storm"] == 200);
    CHECK(after.details["peak_held"] == 200);
    CHECK(after.details["connect_latency"]["count"] == 200);
    CHECK(after.details["problems"].empty());
    CHECK_FALSE(process_alive(worker));
    CHECK(co_await eventually_async([&] { return server.snapshot().held == 0; }));
  });
}

TEST_CASE("connection_storm undo kills the workers a killed run left behind", "[faults][storm]") {
  worker_program program;
  hold_server server;
  faults::fault_context ctx;
  ctx.target = server.address();
  run_async([&](io_context& io) -> awaitable<void> {
    ctx.executor = io.get_executor();
    auto p = storm_params_with(6000);
    p.set("workers", std::int64_t(2));
    auto fault = storm_type().create(p, ctx);
    fault->preflight();
    co_await fault->inject();
    REQUIRE(co_await eventually_async([&] { return server.snapshot().held == 6000; }, 60s));
    const auto record = nlohmann::json::parse(fault->undo_record().dump());  // as the state file keeps it
    REQUIRE(record["workers"].size() == 2);
    storm_type().undo(record);  // what `faultline recover` runs
    for (const auto& w : record["workers"]) CHECK_FALSE(process_alive(process_id_from_json(w)));
    CHECK(co_await eventually_async([&] { return server.snapshot().held == 0; }));
    storm_type().undo(record);  // again: nothing left to do, no error
  });
}

TEST_CASE("connection_storm against a proxy of the run storms its listen address", "[faults][storm]") {
  worker_program program;
  hold_server upstream;
  proxy::proxy_set proxies;
  proxy::proxy_config pc;
  pc.name = "api";
  pc.upstream = upstream.address();
  const auto info = proxies.add(pc);
  faults::fault_context ctx;
  ctx.target = "api";
  ctx.proxies = &proxies;
  run_async([&](io_context& io) -> awaitable<void> {
    ctx.executor = io.get_executor();
    auto fault = storm_type().create(storm_params_with(50), ctx);
    fault->preflight();
    co_await fault->inject();
    REQUIRE(co_await eventually_async([&] { return upstream.snapshot().held == 50; }));  // through the proxy
    REQUIRE(co_await eventually_async([&] { return fault->collect_evidence().details["peak_held"] == 50; }));
    auto e = fault->collect_evidence();
    CHECK(e.details["proxy"] == "api");
    CHECK(e.details["target"] == info.listen);
    CHECK(proxies.stats("api").connections_accepted_total == 50);
    co_await fault->revert();
    CHECK(co_await eventually_async([&] { return upstream.snapshot().held == 0; }));
  });
  ctx.target = "nope";
  run_async([&](io_context& io) -> awaitable<void> {
    ctx.executor = io.get_executor();
    CHECK_THROWS_WITH(storm_type().create(storm_params_with(5), ctx),
                      "connection_storm: target 'nope' is neither host:port nor a proxy of this run; write e.g. "
                      "127.0.0.1:8080 or name a proxy under 'proxies'");
    co_return;
  });
}

TEST_CASE("connection_storm rejects targets it cannot reach", "[faults][storm]") {
  worker_program program;
  faults::fault_context ctx;
  run_async([&](io_context& io) -> awaitable<void> {
    ctx.executor = io.get_executor();
    ctx.target = "no-such-host.invalid:80";
    auto fault = storm_type().create(storm_params_with(10), ctx);
    CHECK_THROWS_WITH(fault->preflight(), Catch::Contains("storm: cannot resolve 'no-such-host.invalid'"));
    co_return;
  });
}
