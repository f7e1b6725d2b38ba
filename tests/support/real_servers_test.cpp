#include "tests/support/real_servers.hpp"

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <string>

using faultline::test::postgres_server;
using faultline::test::redis_server;

namespace {
bool alive(int pid) { return ::kill(pid, 0) == 0; }
}  // namespace

TEST_CASE("redis_server starts a real Redis on loopback and removes it afterwards", "[support]") {
  int pid = 0;
  std::string dir;
  {
    redis_server redis;
    pid = redis.pid();
    dir = redis.directory();
    CHECK(redis.host() == "127.0.0.1");
    CHECK(redis.port() > 0);
    CHECK(alive(pid));
    redisContext* c = redisConnect(redis.host().c_str(), redis.port());
    REQUIRE(c);
    REQUIRE(c->err == 0);
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    REQUIRE(reply);
    CHECK(std::string(reply->str, reply->len) == "PONG");
    freeReplyObject(reply);
    reply = static_cast<redisReply*>(redisCommand(c, "CONFIG GET save"));
    REQUIRE(reply);
    REQUIRE(reply->elements == 2);
    CHECK(std::string(reply->element[1]->str) == "");  // no persistence
    freeReplyObject(reply);
    redisFree(c);
  }
  CHECK_FALSE(alive(pid));
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("postgres_server starts a real PostgreSQL on loopback and removes it afterwards", "[support]") {
  int pid = 0;
  std::string dir;
  {
    postgres_server pg;
    pid = pg.pid();
    dir = pg.directory();
    CHECK(alive(pid));
    PGconn* conn = PQconnectdb(pg.conninfo().c_str());
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
    PGresult* r = PQexec(conn, "SELECT 40 + 2");
    REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    CHECK(std::string(PQgetvalue(r, 0, 0)) == "42");
    PQclear(r);
    PQfinish(conn);
  }
  CHECK_FALSE(alive(pid));
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("a server is stopped when the test throws", "[support]") {
  int pid = 0;
  try {
    redis_server redis;
    pid = redis.pid();
    throw std::runtime_error("test failed");
  } catch (const std::runtime_error&) {
  }
  REQUIRE(pid > 0);
  CHECK_FALSE(alive(pid));
}
