// The postgres session on in-memory pipes with a manual clock: a conversation passes byte for
// byte however it is split, and the toxics act on the right queries, one byte at a time.
#include "faults/protocol/postgres/pg_session.hpp"
#include "faults/protocol/postgres/pg_toxics.hpp"
#include "faults/protocol/postgres/pg_wire.hpp"
#include "faults/protocol/postgres/sql_class.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using namespace faultline::protocol::postgres;
using namespace std::string_literals;
using fp::direction;

namespace {

std::string u32(std::uint32_t v) { return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)}; }
std::string u16(std::uint16_t v) { return {char(v >> 8), char(v & 0xff)}; }
std::string msg(char type, const std::string& body) { return type + u32(static_cast<std::uint32_t>(body.size() + 4)) + body; }
std::string text(const fp::byte_buffer& b) { return {b.begin(), b.end()}; }

std::string startup() {
  auto body = u32(196608) + "user\0postgres\0database\0postgres\0\0"s;
  return u32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}
std::string ssl_request() { return u32(8) + u32(ssl_request_code); }
std::string server_hello() {
  return msg('R', u32(0)) + msg('S', "client_encoding\0UTF8\0"s) + msg('K', u32(7) + u32(9)) + msg('Z', "I");
}
std::string query(const std::string& sql) { return msg('Q', sql + '\0'); }
std::string row_description() { return msg('T', u16(1) + "x\0"s + u32(0) + u16(0) + u32(23) + u16(4) + u32(0xffffffff) + u16(0)); }
std::string row_and_tag(const std::string& tag) { return msg('D', u16(1) + u32(1) + "1") + msg('C', tag + '\0'); }
std::string one_row(const std::string& tag) { return row_description() + row_and_tag(tag); }
std::string ready() { return msg('Z', "I"); }
std::string extended(const std::string& sql) {
  return msg('P', "\0"s + sql + '\0' + u16(0)) + msg('B', "\0\0"s + u16(0) + u16(0) + u16(0)) + msg('D', "P\0"s) +
         msg('E', "\0"s + u32(0)) + msg('S', "");
}
std::string extended_reply() { return msg('1', "") + msg('2', "") + one_row("SELECT 1") + ready(); }

struct pg_harness : message_harness {
  pg_harness() : message_harness(postgres_protocol().open_session()) {}
};

}  // namespace

TEST_CASE("a PostgreSQL conversation passes byte for byte at every split", "[faults][protocol]") {
  const auto client = startup() + query("SELECT 1") + extended("SELECT $1") + query("CREATE TABLE t (a int)");
  const auto server = server_hello() + one_row("SELECT 1") + ready() + extended_reply() + msg('C', "CREATE TABLE\0"s) + ready();
  for (std::size_t at = 0; at <= client.size(); at += 3) {
    INFO("client split at " << at);
    pg_harness h;
    h.add(std::make_shared<pg_delay_toxic>(query_match("never_matches", {}), 50ms, 0ms));
    h.begin();
    h.client.write(client.substr(0, at));
    h.poll();
    h.client.write(client.substr(at));
    h.poll();
    CHECK(h.server.read() == client);
    auto split = std::min(at, server.size());
    h.server.write(server.substr(0, split));
    h.poll();
    h.server.write(server.substr(split));
    h.poll();
    CHECK(h.client.read() == server);
  }
  pg_harness h;
  h.begin();
  h.write_bytewise(h.client, client);
  CHECK(h.server.read() == client);
  h.write_bytewise(h.server, server);
  CHECK(h.client.read() == server);
}

TEST_CASE("pg_error answers a matching query one byte at a time, and the next query passes", "[faults][protocol]") {
  pg_harness h;
  auto counters = h.add(std::make_shared<pg_error_toxic>(query_match("", {"select"}), "40001", "", "ERROR"));
  h.begin();
  h.write_bytewise(h.client, ssl_request());
  CHECK(h.client.read() == "N");  // answered by the session, never seen by the server
  h.write_bytewise(h.client, startup());
  CHECK(h.server.read() == startup());
  h.write_bytewise(h.server, server_hello());
  CHECK(h.client.read() == server_hello());

  h.write_bytewise(h.client, query("SELECT secret FROM t"));
  auto substitute = h.server.read();
  CHECK(substitute == text(query_message("faultline: injected pg_error 40001")));
  h.write_bytewise(h.server, text(error_response("ERROR", "42601", "syntax error at or near \"faultline\"")) + ready());
  CHECK(h.client.read() == text(error_response("ERROR", "40001", "could not serialize access due to concurrent update")) + ready());
  CHECK(counters->snapshot().messages_affected_total == 1);

  h.write_bytewise(h.client, query("INSERT INTO t VALUES (1)"));
  CHECK(h.server.read() == query("INSERT INTO t VALUES (1)"));
  h.write_bytewise(h.server, msg('C', "INSERT 0 1\0"s) + ready());
  CHECK(h.client.read() == msg('C', "INSERT 0 1\0"s) + ready());
  CHECK(counters->snapshot().messages_total == 2);
  CHECK(counters->snapshot().messages_matched_total == 1);
}

TEST_CASE("pg_delay holds the response to an extended-protocol query, byte by byte", "[faults][protocol]") {
  pg_harness h;
  auto counters = h.add(std::make_shared<pg_delay_toxic>(query_match("select", {}), 200ms, 0ms));
  h.begin();
  h.client.write(startup());
  h.poll();
  CHECK(h.server.read() == startup());
  h.server.write(server_hello());
  h.poll();
  CHECK(h.client.read() == server_hello());
  h.write_bytewise(h.client, extended("SELECT $1"));
  CHECK(h.server.read() == extended("SELECT $1"));
  h.write_bytewise(h.server, extended_reply());
  // ParseComplete, BindComplete and the Describe's RowDescription answer other messages; the
  // Execute's rows and everything after them are held.
  CHECK(h.client.read() == msg('1', "") + msg('2', "") + row_description());
  h.advance(199ms);
  CHECK(h.client.pending() == 0);
  h.advance(1ms);
  CHECK(h.client.read() == row_and_tag("SELECT 1") + ready());
  CHECK(counters->snapshot().messages_affected_total == 1);
}

TEST_CASE("statement classes look past comments, literals and WITH", "[faults][protocol]") {
  auto is = [](std::string_view sql, statement_class c) { return classify(sql).has(c); };
  CHECK(is("select 1", statement_class::select));
  CHECK(is("  /* hi */ -- x\n SELECT 1", statement_class::select));
  CHECK(is("WITH x AS (SELECT 1) UPDATE t SET a = 1", statement_class::update));
  CHECK_FALSE(is("WITH x AS (SELECT 1) UPDATE t SET a = 1", statement_class::select));
  CHECK(is("insert into t values ('; delete')", statement_class::insert));
  CHECK_FALSE(is("insert into t values ('; delete')", statement_class::delete_));
  CHECK(is("BEGIN; DELETE FROM t; COMMIT", statement_class::delete_));
  CHECK(is("BEGIN; DELETE FROM t; COMMIT", statement_class::transaction));
  CHECK(is("create table t (a int)", statement_class::ddl));
  CHECK(is("COPY t FROM STDIN", statement_class::copy));
  CHECK(is("SET statement_timeout = 0", statement_class::other));
  CHECK(classify("  -- only a comment").empty());
  CHECK(is("SELECT $$; update$$", statement_class::select));
  CHECK_FALSE(is("SELECT $$; update$$", statement_class::update));
}
