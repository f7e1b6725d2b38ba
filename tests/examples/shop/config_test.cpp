#include "examples/shop/config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

using namespace faultline::shop;
using namespace std::chrono_literals;

namespace {

shop_config parse(std::vector<std::string> args) {
  args.insert(args.begin(), "faultline-shop");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("durations, addresses and fractions as people write them", "[examples][shop]") {
  CHECK(parse_duration("--x", "250ms") == 250ms);
  CHECK(parse_duration("--x", "1.5s") == 1500ms);
  CHECK(parse_duration("--x", "2m") == 120s);
  CHECK(parse_duration("--x", "0") == 0s);
  CHECK(parse_duration("--x", "100us") == 100us);
  CHECK_THROWS_WITH(parse_duration("--postgres-timeout", "300"),
                    "--postgres-timeout: '300' has no unit; write 300ms or 300s");
  CHECK_THROWS_WITH(parse_duration("--x", "3 weeks"), Catch::Contains("unknown unit ' weeks'"));
  CHECK_THROWS_WITH(parse_duration("--x", "-1s"), Catch::Contains("negative"));

  CHECK(parse_address("--x", "127.0.0.1:5432").host == "127.0.0.1");
  CHECK(parse_address("--x", "127.0.0.1:5432").port == 5432);
  CHECK(parse_address("--x", "[::1]:6379").host == "::1");
  CHECK(parse_address("--x", "localhost:0").port == 0);
  CHECK_THROWS_WITH(parse_address("--redis", "127.0.0.1"),
                    "--redis: '127.0.0.1' has no port; write host:port, e.g. 127.0.0.1:5432");
  CHECK_THROWS_WITH(parse_address("--x", "::1:80"), Catch::Contains("brackets"));
  CHECK_THROWS_WITH(parse_address("--x", "h:70000"), Catch::Contains("0 to 65535"));

  CHECK(parse_fraction("--x", "50%") == Approx(0.5));
  CHECK(parse_fraction("--x", "0.25") == Approx(0.25));
  CHECK_THROWS_WITH(parse_fraction("--x", "150%"), Catch::Contains("outside 0%..100%"));
}

TEST_CASE("flags fill the config, defaults otherwise", "[examples][shop]") {
  const auto defaults = parse({});
  CHECK(defaults.listen.port == 8080);
  CHECK(defaults.postgres.timeout == 300ms);
  CHECK(defaults.postgres.retry.attempts == 2);
  CHECK(defaults.redis.retry.attempts == 1);
  CHECK(defaults.breaker.rule == trip_rule::consecutive_failures);
  CHECK(defaults.breaker.consecutive_failures == 5);
  CHECK(defaults.breaker.cooldown == 5s);
  CHECK(defaults.max_websocket_sessions == 1000);

  const auto c = parse({"--listen", "127.0.0.1:0", "--postgres", "127.0.0.1:15432", "--redis", "[::1]:16379",
                        "--postgres-timeout", "800ms", "--postgres-attempts", "3", "--breaker-rule", "rate",
                        "--breaker-failure-rate", "25%", "--breaker-window", "8", "--breaker-minimum-calls", "4",
                        "--breaker-slow-call", "0", "--breaker-cooldown", "1.5s", "--breaker-trials", "1",
                        "--cache-ttl", "0", "--threads", "3", "--max-inflight", "0", "--max-websocket-sessions", "5"});
  CHECK(c.listen.port == 0);
  CHECK(c.postgres.where.port == 15432);
  CHECK(c.redis.where.host == "::1");
  CHECK(c.postgres.timeout == 800ms);
  CHECK(c.postgres.retry.attempts == 3);
  CHECK(c.breaker.rule == trip_rule::failure_rate);
  CHECK(c.breaker.failure_rate == Approx(0.25));
  CHECK(c.breaker.window == 8);
  CHECK(c.breaker.minimum_calls == 4);
  CHECK(c.breaker.slow_call == 0s);
  CHECK(c.breaker.cooldown == 1500ms);
  CHECK(c.breaker.half_open_trials == 1);
  CHECK(c.cache_ttl == 0s);
  CHECK(c.threads == 3);
  CHECK(c.max_inflight == 0);
  CHECK(c.max_websocket_sessions == 5);
}

TEST_CASE("SHOP_* environment variables stand in for flags, flags win", "[examples][shop]") {
  ::setenv("SHOP_BREAKER_COOLDOWN", "2s", 1);
  ::setenv("SHOP_POSTGRES", "127.0.0.1:25432", 1);
  const auto from_env = parse({});
  const auto from_flag = parse({"--breaker-cooldown", "3s"});
  ::unsetenv("SHOP_BREAKER_COOLDOWN");
  ::unsetenv("SHOP_POSTGRES");
  CHECK(from_env.breaker.cooldown == 2s);
  CHECK(from_env.postgres.where.port == 25432);
  CHECK(from_flag.breaker.cooldown == 3s);
}

TEST_CASE("bad flags are refused with the flag named and the fix", "[examples][shop]") {
  using row = std::pair<std::vector<std::string>, std::string>;
  const std::vector<row> table{
      {{"--postgres-timeout", "300"}, "--postgres-timeout: '300' has no unit; write 300ms or 300s"},
      {{"--redis", "localhost"}, "--redis: 'localhost' has no port; write host:port, e.g. 127.0.0.1:5432"},
      {{"--stale-ttl", "10s", "--cache-ttl", "1m"},
       "--stale-ttl (10s) is shorter than --cache-ttl (1m); the stale copy must outlive the fresh one"},
      {{"--breaker-window", "5", "--breaker-minimum-calls", "6"},
       "--breaker-minimum-calls (6) is larger than --breaker-window (5); it could never be reached"},
      {{"--postgres", "127.0.0.1:0"}, "--postgres and --redis need a real port, not 0"},
      {{"--breaker-rule", "sometimes"}, "--breaker-rule: sometimes not in {consecutive,rate}"},
      {{"--threads", "0"}, "--threads: Value 0 not in range 1 to 64"},
      {{"--breaker-failure-rate", "2"}, "--breaker-failure-rate: '2' is outside 0%..100%"},
      {{"--lisen", "127.0.0.1:1"}, "The following arguments were not expected: 127.0.0.1:1 --lisen"},
  };
  for (const auto& [args, message] : table) {
    INFO("flags: " << Catch::Detail::stringify(args));
    CHECK_THROWS_WITH(parse(args), message);
  }
}
