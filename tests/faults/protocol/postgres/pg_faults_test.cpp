// The PostgreSQL faults against a real PostgreSQL 15 through a `protocol: postgres` proxy, with
// libpq and psql as clients; injected through the fault types as an experiment would, and
// through the toxic registry as the control API would.
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/toxic_registry.hpp"
#include "tests/faults/protocol/fault_helpers.hpp"
#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/real_servers.hpp"

#include <libpq-fe.h>

#include <catch2/catch.hpp>

#include <memory>

using namespace faultline;
using namespace faultline::test;
using namespace std::chrono_literals;
namespace fp = faultline::proxy;

namespace {

struct conn_deleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using conn_ptr = std::unique_ptr<PGconn, conn_deleter>;
struct result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

std::string port_of(const std::string& address) { return address.substr(address.rfind(':') + 1); }

conn_ptr connect(const std::string& address, const std::string& extra = "") {
  auto info = "host=127.0.0.1 port=" + port_of(address) + " user=postgres dbname=postgres connect_timeout=10 " + extra;
  return conn_ptr(PQconnectdb(info.c_str()));
}

result_ptr exec(PGconn* c, const std::string& sql) { return result_ptr(PQexec(c, sql.c_str())); }

std::string sqlstate(const result_ptr& r) {
  const char* s = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
  return s ? s : "";
}

std::string value(const result_ptr& r, int row = 0, int col = 0) {
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) <= row) return "<" + std::string(PQresultErrorMessage(r.get())) + ">";
  return PQgetvalue(r.get(), row, col);
}

// A PostgreSQL and a `protocol: postgres` proxy in front of it.
struct pg_setup {
  postgres_server pg;
  fp::proxy_set proxies;
  std::string listen;
  boost::asio::io_context ioc;

  pg_setup() {
    fp::proxy_config c;
    c.name = "db";
    c.upstream = pg.address();
    c.protocol = "postgres";
    listen = proxies.add(c).listen;
  }
  std::unique_ptr<faults::fault> fault(const char* type, std::map<std::string, param_value> values) {
    const auto& t = fault_type_named(type);
    return t.create(fault_params(t, std::move(values)), {ioc.get_executor(), &proxies, "db", type});
  }
};

template <typename F>
std::chrono::steady_clock::duration timed(F f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::steady_clock::now() - start;
}

}  // namespace

TEST_CASE("through a postgres proxy, SSLRequest is answered N and queries pass untouched", "[faults][protocol]") {
  pg_setup s;
  auto c = connect(s.listen, "sslmode=prefer");
  REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
  CHECK(PQsslInUse(c.get()) == 0);
  CHECK(value(exec(c.get(), "SELECT 40 + 2")) == "42");
  auto bad = connect(s.listen, "sslmode=require");
  CHECK(PQstatus(bad.get()) == CONNECTION_BAD);
  CHECK_THAT(PQerrorMessage(bad.get()), Catch::Contains("SSL"));
}

TEST_CASE("pg_delay delays matching SELECTs, simple and prepared, and nothing else", "[faults][protocol]") {
  pg_setup s;
  auto c = connect(s.listen);
  REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
  REQUIRE(PQresultStatus(exec(c.get(), "CREATE TABLE t (id int)").get()) == PGRES_COMMAND_OK);
  auto f = s.fault("pg_delay", {{"delay", std::chrono::nanoseconds(300ms)}, {"statements", std::vector<std::string>{"select"}}});
  run_to_end(s.ioc, f->inject());
  auto d = connect(s.listen);  // a connection opened during the fault
  REQUIRE(PQstatus(d.get()) == CONNECTION_OK);
  CHECK(timed([&] { CHECK(value(exec(d.get(), "SELECT count(*) FROM t")) == "0"); }) >= 300ms);
  CHECK(timed([&] { CHECK(PQresultStatus(exec(d.get(), "INSERT INTO t VALUES (1)").get()) == PGRES_COMMAND_OK); }) < 300ms);
  // The extended protocol: a prepared statement, and PQexecParams.
  REQUIRE(PQresultStatus(result_ptr(PQprepare(d.get(), "q", "SELECT id FROM t WHERE id = $1", 1, nullptr)).get()) == PGRES_COMMAND_OK);
  const char* one = "1";
  CHECK(timed([&] { CHECK(value(result_ptr(PQexecPrepared(d.get(), "q", 1, &one, nullptr, nullptr, 0))) == "1"); }) >= 300ms);
  CHECK(timed([&] { CHECK(value(result_ptr(PQexecParams(d.get(), "SELECT $1::int + 1", 1, nullptr, &one, nullptr, nullptr, 0))) == "2"); }) >=
        300ms);
  // The connection opened before the fault gets it too (once the proxy told its session).
  CHECK(eventually([&] { return timed([&] { exec(c.get(), "SELECT 1"); }) >= 300ms; }));
  run_to_end(s.ioc, f->revert());
  auto e = f->collect_evidence();
  CHECK(e.observed);
  CHECK(e.details["affected"].get<std::uint64_t>() >= 4);
  CHECK(e.details["delay_ns_average"] == 300'000'000);
}

TEST_CASE("pg_error gives libpq the chosen SQLSTATE and the connection stays usable", "[faults][protocol]") {
  pg_setup s;
  auto c = connect(s.listen);
  REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
  REQUIRE(PQresultStatus(exec(c.get(), "CREATE TABLE accounts (id int, balance int); INSERT INTO accounts VALUES (1, 100)").get()) ==
          PGRES_COMMAND_OK);
  auto f = s.fault("pg_error", {{"sqlstate", std::string("40001")}, {"match", std::string("update\\s+accounts")}});
  run_to_end(s.ioc, f->inject());
  CHECK(eventually([&] { return sqlstate(exec(c.get(), "UPDATE accounts SET balance = 0")) == "40001"; }));
  auto r = exec(c.get(), "UPDATE accounts SET balance = 0");
  CHECK(PQresultStatus(r.get()) == PGRES_FATAL_ERROR);
  CHECK(sqlstate(r) == "40001");
  CHECK_THAT(PQresultErrorMessage(r.get()), Catch::Contains("could not serialize access"));
  CHECK(value(exec(c.get(), "SELECT balance FROM accounts")) == "100");  // never ran; the next query works

  SECTION("prepared, in a transaction: the block fails as after a real error") {
    REQUIRE(PQresultStatus(exec(c.get(), "BEGIN").get()) == PGRES_COMMAND_OK);
    const char* v = "5";
    r = result_ptr(PQexecParams(c.get(), "UPDATE accounts SET balance = $1", 1, nullptr, &v, nullptr, nullptr, 0));
    CHECK(sqlstate(r) == "40001");
    CHECK(PQtransactionStatus(c.get()) == PQTRANS_INERROR);
    CHECK(sqlstate(exec(c.get(), "SELECT 1")) == "25P02");  // in_failed_sql_transaction, from the server
    CHECK(PQresultStatus(exec(c.get(), "ROLLBACK").get()) == PGRES_COMMAND_OK);
    CHECK(value(exec(c.get(), "SELECT balance FROM accounts")) == "100");
  }
  SECTION("psql reports it") {
    auto out = run_command("psql -X -h 127.0.0.1 -p " + port_of(s.listen) +
                           " -U postgres -d postgres -v VERBOSITY=verbose -c 'UPDATE accounts SET balance = 1' 2>&1");
    CHECK(out.exit_code == 1);
    CHECK_THAT(out.output, Catch::Contains("ERROR:  40001: could not serialize access due to concurrent update"));
  }
  run_to_end(s.ioc, f->revert());
  auto e = f->collect_evidence();
  CHECK(e.observed);
  CHECK(e.details["affected"].get<std::uint64_t>() >= 2);
}

TEST_CASE("pg_drop cuts the connection while the matching query runs", "[faults][protocol]") {
  pg_setup s;
  auto f = s.fault("pg_drop", {{"match", std::string("pg_sleep")}});
  run_to_end(s.ioc, f->inject());
  auto c = connect(s.listen);
  REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
  CHECK(value(exec(c.get(), "SELECT 1")) == "1");
  auto r = exec(c.get(), "SELECT pg_sleep(0.01)");
  CHECK(PQresultStatus(r.get()) == PGRES_FATAL_ERROR);
  CHECK(PQstatus(c.get()) == CONNECTION_BAD);
  run_to_end(s.ioc, f->revert());
  CHECK(f->collect_evidence().details["affected"] == 1);
}

TEST_CASE("pg_refuse turns connections away with 53300", "[faults][protocol]") {
  pg_setup s;
  auto f = s.fault("pg_refuse", {});
  run_to_end(s.ioc, f->inject());
  auto c = connect(s.listen, "sslmode=disable");
  CHECK(PQstatus(c.get()) == CONNECTION_BAD);
  CHECK_THAT(PQerrorMessage(c.get()), Catch::Contains("sorry, too many clients already"));
  run_to_end(s.ioc, f->revert());
  CHECK(PQstatus(connect(s.listen).get()) == CONNECTION_OK);
  CHECK(f->collect_evidence().details["affected"] == 1);
}

TEST_CASE("a 10k-row COPY passes intact in both directions under a pg_delay on other queries", "[faults][protocol]") {
  pg_setup s;
  auto f = s.fault("pg_delay", {{"delay", std::chrono::nanoseconds(200ms)}, {"match", std::string("never_matches_anything")}});
  run_to_end(s.ioc, f->inject());
  auto c = connect(s.listen);
  REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
  REQUIRE(PQresultStatus(exec(c.get(), "CREATE TABLE rows (id int, name text)").get()) == PGRES_COMMAND_OK);
  REQUIRE(PQresultStatus(exec(c.get(), "COPY rows FROM STDIN").get()) == PGRES_COPY_IN);
  std::string sent;
  for (int i = 0; i < 10000; ++i) sent += std::to_string(i) + "\trow number " + std::to_string(i) + " with\\ttab\n";
  for (std::size_t at = 0; at < sent.size(); at += 1000) {
    auto piece = sent.substr(at, 1000);
    REQUIRE(PQputCopyData(c.get(), piece.data(), static_cast<int>(piece.size())) == 1);
  }
  REQUIRE(PQputCopyEnd(c.get(), nullptr) == 1);
  auto r = result_ptr(PQgetResult(c.get()));
  CHECK(PQresultStatus(r.get()) == PGRES_COMMAND_OK);
  CHECK(std::string(PQcmdTuples(r.get())) == "10000");
  while (result_ptr(PQgetResult(c.get()))) {
  }
  REQUIRE(PQresultStatus(exec(c.get(), "COPY (SELECT * FROM rows ORDER BY id) TO STDOUT").get()) == PGRES_COPY_OUT);
  std::string received;
  char* buffer = nullptr;
  int n = 0;
  while ((n = PQgetCopyData(c.get(), &buffer, 0)) > 0) {
    received.append(buffer, static_cast<std::size_t>(n));
    PQfreemem(buffer);
  }
  CHECK(n == -1);
  while (result_ptr(PQgetResult(c.get()))) {
  }
  CHECK(received == sent);
  CHECK(value(exec(c.get(), "SELECT count(*) FROM rows")) == "10000");
  run_to_end(s.ioc, f->revert());
  auto e = f->collect_evidence();
  CHECK_FALSE(e.observed);
  CHECK(e.details["matched"] == 0);
}

TEST_CASE("pg toxics come from the control API's registry", "[faults][protocol]") {
  pg_setup s;
  fp::toxic_registry registry;
  fp::register_builtin_toxics(registry);
  auto config = registry.find("pg_error")->parse({{"sqlstate", "57014"}, {"statements", "select"}});
  s.proxies.add_toxic("db", {"cancel", fp::direction::downstream, 1.0, config});
  auto c = connect(s.listen);
  REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
  CHECK(sqlstate(exec(c.get(), "SELECT 1")) == "57014");
  CHECK(PQresultStatus(exec(c.get(), "CREATE TABLE x (a int)").get()) == PGRES_COMMAND_OK);
  CHECK_THROWS_WITH(registry.find("pg_error")->parse({{"sqlstate", "4000"}}), Catch::Contains("is not a SQLSTATE"));
  CHECK_THROWS_WITH(registry.find("pg_delay")->parse({{"match", "(unclosed"}}), Catch::Contains("not a valid regular expression"));
  CHECK_THROWS_WITH(registry.find("pg_delay")->parse({{"statements", "selekt"}}), Catch::Contains("unknown statement class 'selekt'"));
}

TEST_CASE("a cancel request through the proxy cancels the running query", "[faults][protocol]") {
  pg_setup s;
  auto f = s.fault("pg_delay", {{"delay", std::chrono::nanoseconds(10ms)}, {"statements", std::vector<std::string>{"insert"}}});
  run_to_end(s.ioc, f->inject());
  auto c = connect(s.listen);
  REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
  REQUIRE(PQsendQuery(c.get(), "SELECT pg_sleep(30)") == 1);
  // A cancel before the query starts would be lost: wait until the server runs it.
  auto watcher = connect(s.listen);
  REQUIRE(eventually([&] {
    return value(exec(watcher.get(), "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = 'SELECT pg_sleep(30)'")) == "1";
  }));
  std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel(PQgetCancel(c.get()), &PQfreeCancel);
  char error[256] = {};
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(PQcancel(cancel.get(), error, sizeof error) == 1);
  result_ptr r(PQgetResult(c.get()));
  CHECK(sqlstate(r) == "57014");
  CHECK(std::chrono::steady_clock::now() - started < 20s);
  while (result_ptr(PQgetResult(c.get()))) {
  }
  CHECK(value(exec(c.get(), "SELECT 7")) == "7");
  run_to_end(s.ioc, f->revert());
}
