// Protocol sessions behind a proxy that terminates TLS, against real servers that speak TLS
// themselves: psql with sslmode=require and verify-full through a `protocol: postgres` proxy to
// PostgreSQL 15 with ssl=on (pg_error and pg_delay on the decrypted queries), and redis-cli
// --tls through a `protocol: redis` proxy to redis-server's tls-port (redis_miss).
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/toxic_registry.hpp"
#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/real_servers.hpp"
#include "tests/support/skip.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>

using namespace faultline::test;
namespace fp = faultline::proxy;
using nlohmann::json;

namespace {

const fp::toxic_registry& registry() {
  static const fp::toxic_registry r = [] {
    fp::toxic_registry out;
    fp::register_builtin_toxics(out);
    return out;
  }();
  return r;
}

fp::installed_toxic toxic(const char* type, const json& attributes) {
  return {"", fp::direction::downstream, 1.0, registry().find(type)->parse(attributes)};
}

fp::proxy_info tls_proxy(fp::proxy_set& set, const char* protocol, const std::string& upstream, const std::string& upstream_ca) {
  fp::proxy_config c;
  c.name = protocol;
  c.protocol = protocol;
  c.upstream = upstream;
  c.tls = fp::parse_tls_settings(json{{"tls", "terminate"}, {"upstream_tls", {{"ca", upstream_ca}}}});
  return set.add(c);
}

std::string port_of(const std::string& listen) { return listen.substr(listen.rfind(':') + 1); }

}  // namespace

TEST_CASE("psql with sslmode=require and verify-full runs queries through a terminating postgres proxy to PostgreSQL with ssl=on",
          "[faults][protocol]") {
  skip_unless_installed("psql", "postgresql-client");
  postgres_server pg(postgres_server::with_ssl{});
  fp::proxy_set set;
  auto p = tls_proxy(set, "postgres", pg.address(), pg.certificate());
  const auto conninfo = fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres connect_timeout=10", port_of(p.listen));
  auto psql = [&](const std::string& mode, const std::string& sql) {
    return run_command(fmt::format("psql -X -v VERBOSITY=verbose -At '{} {}' -c \"{}\" 2>&1", conninfo, mode, sql));
  };

  // The proxy's side of the upstream is TLS too: PostgreSQL says so for the proxy's session.
  auto r = psql("sslmode=require", "select ssl from pg_stat_ssl where pid = pg_backend_pid()");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output == "t\n");
  auto full = psql("sslmode=verify-full sslrootcert=" + p.tls.ca_file, "select 40 + 2");
  INFO(full.output);
  CHECK(full.output == "42\n");
  CHECK(set.stats("postgres").tls_handshakes_total == 2);

  SECTION("pg_error reaches the client with its SQLSTATE, other queries run") {
    set.add_toxic("postgres", toxic("pg_error", {{"sqlstate", "40001"}, {"match", "update"}}));
    auto failed = psql("sslmode=require", "update pg_class set relname = relname where false");
    INFO(failed.output);
    CHECK(failed.exit_code != 0);
    CHECK(failed.output.find("40001") != std::string::npos);
    CHECK(psql("sslmode=require", "select 1").output == "1\n");
  }

  SECTION("pg_delay delays matching queries only") {
    set.add_toxic("postgres", toxic("pg_delay", {{"delay", 800}, {"match", "slow_marker"}}));
    auto timed = [&](const std::string& sql) {
      auto start = std::chrono::steady_clock::now();
      auto out = psql("sslmode=require", sql);
      INFO(out.output);
      CHECK(out.exit_code == 0);
      return std::chrono::steady_clock::now() - start;
    };
    auto quick = timed("select 'quick'");
    auto slow = timed("select 'slow_marker'");
    CHECK(slow >= std::chrono::milliseconds(800));
    CHECK(slow - quick >= std::chrono::milliseconds(600));  // both connect the same way; only the query differs
  }
}

TEST_CASE("redis-cli --tls through a terminating redis proxy to a TLS redis-server: redis_miss turns a hit into nil",
          "[faults][protocol]") {
  skip_unless_installed("redis-cli", "redis-tools");
  tls_redis_server redis;
  fp::proxy_set set;
  auto p = tls_proxy(set, "redis", redis.address(), redis.certificate());
  auto cli = [&](const std::string& args) {
    return run_command(fmt::format("redis-cli --no-raw --tls --cacert '{}' -h 127.0.0.1 -p {} {} 2>&1", p.tls.ca_file, port_of(p.listen), args));
  };
  REQUIRE(cli("set cache:a 1").output == "OK\n");
  CHECK(cli("get cache:a").output == "\"1\"\n");
  auto miss = set.add_toxic("redis", toxic("redis_miss", {{"keys", "cache:*"}}));
  CHECK(cli("get cache:a").output == "(nil)\n");
  CHECK(cli("set other:b 2").output == "OK\n");
  CHECK(cli("get other:b").output == "\"2\"\n");
  CHECK(miss.counters->messages_affected_total == 1);
  set.remove_toxic("redis", miss.name);
  CHECK(cli("get cache:a").output == "\"1\"\n");  // the key stayed in the server
}
