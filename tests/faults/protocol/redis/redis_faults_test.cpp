// The Redis faults against a real redis-server through a `protocol: redis` proxy, with hiredis
// and redis-cli as clients; injected through the fault types as an experiment would, and
// through the toxic registry as the control API would.
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/toxic_registry.hpp"
#include "tests/faults/protocol/fault_helpers.hpp"
#include "tests/support/command.hpp"
#include "tests/support/real_servers.hpp"

#include <hiredis/hiredis.h>

#include <catch2/catch.hpp>

#include <memory>

using namespace faultline;
using namespace faultline::test;
using namespace std::chrono_literals;
namespace fp = faultline::proxy;

namespace {

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;
struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

context_ptr connect(const std::string& address) {
  auto colon = address.rfind(':');
  timeval tv{5, 0};
  context_ptr c(redisConnectWithTimeout(address.substr(0, colon).c_str(), std::stoi(address.substr(colon + 1)), tv));
  REQUIRE(c);
  REQUIRE(c->err == 0);
  redisSetTimeout(c.get(), tv);
  return c;
}

reply_ptr run(redisContext* c, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  auto* r = static_cast<redisReply*>(redisvCommand(c, format, ap));
  va_end(ap);
  return reply_ptr(r);
}

std::string text(const reply_ptr& r) { return r ? std::string(r->str, r->len) : std::string("<no reply>"); }

// A redis-server and a `protocol: redis` proxy in front of it.
struct redis_setup {
  redis_server redis;
  fp::proxy_set proxies;
  std::string listen;
  boost::asio::io_context ioc;

  redis_setup() {
    fp::proxy_config c;
    c.name = "cache";
    c.upstream = redis.address();
    c.protocol = "redis";
    listen = proxies.add(c).listen;
  }
  faults::fault_context context(std::string target = "cache", std::string step = "step") {
    return {ioc.get_executor(), &proxies, std::move(target), std::move(step)};
  }
  std::unique_ptr<faults::fault> fault(const char* type, std::map<std::string, param_value> values, std::string target = "cache") {
    const auto& t = fault_type_named(type);
    return t.create(fault_params(t, std::move(values)), context(std::move(target), type));
  }
};

}  // namespace

TEST_CASE("redis_miss turns GET hits into nil while the key stays in the server", "[faults][protocol]") {
  redis_setup s;
  auto direct = connect(s.redis.address());
  REQUIRE(text(run(direct.get(), "SET %s %s", "cache:user:1", "alice")) == "OK");
  REQUIRE(text(run(direct.get(), "HSET %s %s %s", "cache:h", "f", "v")) == "");
  REQUIRE(text(run(direct.get(), "SET %s %s", "db:user:1", "bob")) == "OK");

  auto f = s.fault("redis_miss", {{"keys", std::string("cache:*")}});
  run_to_end(s.ioc, f->inject());
  auto proxied = connect(s.listen);
  auto r = run(proxied.get(), "GET %s", "cache:user:1");
  REQUIRE(r);
  CHECK(r->type == REDIS_REPLY_NIL);
  r = run(proxied.get(), "EXISTS %s", "cache:user:1");
  CHECK(r->type == REDIS_REPLY_INTEGER);
  CHECK(r->integer == 0);
  r = run(proxied.get(), "HGETALL %s", "cache:h");
  CHECK(r->type == REDIS_REPLY_ARRAY);
  CHECK(r->elements == 0);
  CHECK(text(run(proxied.get(), "GET %s", "db:user:1")) == "bob");  // not matched by the pattern
  CHECK(text(run(direct.get(), "GET %s", "cache:user:1")) == "alice");  // the data is still there

  // redis-cli sees the miss too (nil prints as an empty line when not on a terminal).
  auto colon = s.listen.rfind(':');
  auto cli = run_command("redis-cli -h 127.0.0.1 -p " + s.listen.substr(colon + 1) + " GET cache:user:1");
  CHECK(cli.exit_code == 0);
  CHECK(cli.output == "\n");

  run_to_end(s.ioc, f->revert());
  CHECK(eventually([&] { return text(run(proxied.get(), "GET %s", "cache:user:1")) == "alice"; }));
  auto e = f->collect_evidence();
  CHECK(e.observed);
  CHECK(e.details["affected"] == 4);  // GET, EXISTS, HGETALL and redis-cli's GET
  CHECK(e.details["matched"] == 4);
  CHECK(e.details["seen"].get<std::uint64_t>() >= 5);
  CHECK_THAT(e.summary, Catch::Contains("4 answered as misses"));
}

TEST_CASE("pipelined commands keep their order while some are delayed, missed or failed", "[faults][protocol]") {
  redis_setup s;
  auto delay = s.fault("redis_delay", {{"delay", std::chrono::nanoseconds(50ms)}, {"commands", std::vector<std::string>{"INCR"}}});
  auto miss = s.fault("redis_miss", {{"keys", std::string("gone:*")}});
  auto error = s.fault("redis_error", {{"error", std::string("custom")}, {"message", std::string("ERR injected")},
                                       {"commands", std::vector<std::string>{"DECR"}}});
  for (auto* f : {delay.get(), miss.get(), error.get()}) run_to_end(s.ioc, f->inject());
  auto direct = connect(s.redis.address());
  REQUIRE(text(run(direct.get(), "SET %s %s", "gone:1", "x")) == "OK");

  auto c = connect(s.listen);
  constexpr int rounds = 200;
  for (int i = 0; i < rounds; ++i) {
    redisAppendCommand(c.get(), "SET k%d %d", i, i);
    redisAppendCommand(c.get(), "GET gone:1");
    if (i % 20 == 0) redisAppendCommand(c.get(), "INCR counter");
    if (i % 50 == 0) redisAppendCommand(c.get(), "DECR counter");
    redisAppendCommand(c.get(), "GET k%d", i);
  }
  int incr = 0;
  for (int i = 0; i < rounds; ++i) {
    INFO("round " << i);
    auto get = [&] {
      void* out = nullptr;
      REQUIRE(redisGetReply(c.get(), &out) == REDIS_OK);
      return reply_ptr(static_cast<redisReply*>(out));
    };
    CHECK(text(get()) == "OK");
    CHECK(get()->type == REDIS_REPLY_NIL);
    if (i % 20 == 0) CHECK(get()->integer == ++incr);
    if (i % 50 == 0) CHECK(text(get()) == "ERR injected");
    CHECK(text(get()) == std::to_string(i));
  }
  for (auto* f : {delay.get(), miss.get(), error.get()}) run_to_end(s.ioc, f->revert());
  CHECK(delay->collect_evidence().details["affected"] == rounds / 20);
  CHECK(miss->collect_evidence().details["affected"] == rounds);
  CHECK(error->collect_evidence().details["affected"] == rounds / 50);
  CHECK(text(run(direct.get(), "GET %s", "counter")) == std::to_string(rounds / 20));  // the DECRs never reached the server
}

TEST_CASE("redis_error returns exactly the configured error, to hiredis and redis-cli", "[faults][protocol]") {
  redis_setup s;
  SECTION("a known error carries Redis's own text") {
    auto f = s.fault("redis_error", {{"error", std::string("LOADING")}});
    run_to_end(s.ioc, f->inject());
    auto c = connect(s.listen);
    auto r = run(c.get(), "GET %s", "k");
    CHECK(r->type == REDIS_REPLY_ERROR);
    CHECK(text(r) == "LOADING Redis is loading the dataset in memory");
    run_to_end(s.ioc, f->revert());
  }
  SECTION("a custom error line, only on matching commands") {
    auto f = s.fault("redis_error", {{"error", std::string("custom")},
                                     {"message", std::string("MOVED 3999 127.0.0.1:6381")},
                                     {"commands", std::vector<std::string>{"get"}},
                                     {"keys", std::string("user:*")}});
    run_to_end(s.ioc, f->inject());
    auto c = connect(s.listen);
    auto r = run(c.get(), "GET %s", "user:7");
    CHECK(r->type == REDIS_REPLY_ERROR);
    CHECK(text(r) == "MOVED 3999 127.0.0.1:6381");
    CHECK(run(c.get(), "GET %s", "other")->type == REDIS_REPLY_NIL);
    CHECK(text(run(c.get(), "SET %s %s", "user:7", "v")) == "OK");
    auto colon = s.listen.rfind(':');
    auto cli = run_command("redis-cli -h 127.0.0.1 -p " + s.listen.substr(colon + 1) + " GET user:7");
    CHECK_THAT(cli.output, Catch::Contains("MOVED 3999 127.0.0.1:6381"));
    run_to_end(s.ioc, f->revert());
    auto e = f->collect_evidence();
    CHECK(e.details["matched"] == 2);
    CHECK(e.details["affected"] == 2);
  }
}

TEST_CASE("redis_delay slows matching commands only", "[faults][protocol]") {
  redis_setup s;
  auto f = s.fault("redis_delay", {{"delay", std::chrono::nanoseconds(300ms)}, {"commands", std::vector<std::string>{"GET"}}});
  run_to_end(s.ioc, f->inject());
  auto c = connect(s.listen);
  auto timed = [&](const char* cmd) {
    auto start = std::chrono::steady_clock::now();
    auto r = run(c.get(), cmd);
    REQUIRE(r);
    return std::chrono::steady_clock::now() - start;
  };
  CHECK(timed("GET k") >= 300ms);
  CHECK(timed("PING") < 300ms);  // generous: only "not delayed by the toxic" is asserted
  run_to_end(s.ioc, f->revert());
  auto e = f->collect_evidence();
  CHECK(e.details["affected"] == 1);
  CHECK(e.details["delay_ns_average"] == 300'000'000);
}

TEST_CASE("redis_outage cuts connections until it is reverted", "[faults][protocol]") {
  redis_setup s;
  auto before = connect(s.listen);
  CHECK(text(run(before.get(), "PING")) == "PONG");
  auto f = s.fault("redis_outage", {});
  run_to_end(s.ioc, f->inject());
  CHECK(eventually([&] { return !run(before.get(), "PING"); }));  // the live connection was reset
  {
    auto during = redisConnect("127.0.0.1", std::stoi(s.listen.substr(s.listen.rfind(':') + 1)));
    context_ptr guard(during);
    CHECK((during->err != 0 || !run(during, "PING")));
  }
  run_to_end(s.ioc, f->revert());
  auto after = connect(s.listen);
  CHECK(text(run(after.get(), "PING")) == "PONG");
  auto e = f->collect_evidence();
  CHECK(e.observed);
  CHECK(e.details["connections_reset"].get<std::uint64_t>() >= 2);
}

TEST_CASE("redis_flush empties the database and says how many keys were there", "[faults][protocol]") {
  redis_setup s;
  auto direct = connect(s.redis.address());
  for (int i = 0; i < 25; ++i) run(direct.get(), "SET k%d v", i);
  run(direct.get(), "SELECT 1");
  run(direct.get(), "SET other v");
  const auto& t = fault_type_named("redis_flush");
  CHECK(t.destructive);
  CHECK(t.action);
  SECTION("by address") {
    auto f = t.create(fault_params(t, {}), s.context(s.redis.address()));
    run_to_end(s.ioc, f->inject());
    auto e = f->collect_evidence();
    CHECK(e.observed);
    CHECK(e.details["keys_before"] == 25);
    CHECK(e.details["keys_after"] == 0);
    CHECK(run(direct.get(), "DBSIZE")->integer == 1);  // database 1 untouched
  }
  SECTION("through a proxy's upstream, another database") {
    auto f = t.create(fault_params(t, {{"database", std::int64_t{1}}}), s.context("cache"));
    run_to_end(s.ioc, f->inject());
    CHECK(f->collect_evidence().details["keys_before"] == 1);
    CHECK(run(direct.get(), "DBSIZE")->integer == 0);
  }
  SECTION("a refused AUTH is an error naming the fix") {
    auto f = t.create(fault_params(t, {{"password", std::string("wrong")}}), s.context(s.redis.address()));
    CHECK_THROWS_WITH(run_to_end(s.ioc, f->inject()), Catch::Contains("check `password`"));
    CHECK_FALSE(f->collect_evidence().observed);
  }
}

TEST_CASE("redis toxics come from the control API's registry with their attributes", "[faults][protocol]") {
  redis_setup s;
  fp::toxic_registry registry;
  fp::register_builtin_toxics(registry);
  const auto* e = registry.find("redis_error");
  REQUIRE(e);
  CHECK(e->protocol == "redis");
  auto config = e->parse({{"error", "custom"}, {"message", "ERR from api"}, {"commands", "GET, MGET"}});
  CHECK(config->attributes()["commands"] == nlohmann::json::array({"GET", "MGET"}));
  s.proxies.add_toxic("cache", {"err", fp::direction::downstream, 1.0, config});
  auto c = connect(s.listen);
  CHECK(text(run(c.get(), "GET a")) == "ERR from api");
  CHECK_THROWS_AS(registry.find("redis_miss")->parse({{"commands", "SET"}}), fp::attribute_error);
  CHECK_THROWS_AS(registry.find("redis_delay")->parse({{"delay", -5}}), fp::attribute_error);
  // A redis toxic needs a redis proxy.
  fp::proxy_config plain;
  plain.name = "plain";
  plain.upstream = s.redis.address();
  s.proxies.add(plain);
  CHECK_THROWS_AS(s.proxies.add_toxic("plain", {"err", fp::direction::downstream, 1.0, config}), fp::proxy_error);
}
