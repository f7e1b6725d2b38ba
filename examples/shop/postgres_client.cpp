#include "examples/shop/postgres_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <libpq-fe.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

namespace faultline::shop {

namespace asio = boost::asio;
using wait_type = asio::posix::descriptor_base::wait_type;

namespace {

// libpq's messages span lines ("...refused\n\tIs the server running...?\n"): make them one line.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

const char* find_order_sql =
    "SELECT json_build_object('id', id, 'customer', customer, 'status', status, 'total_cents', total_cents,"
    " 'items', items, 'created_at', created_at)::text FROM orders WHERE id = $1";

}  // namespace

pg_connection::pg_connection(asio::any_io_executor executor, const postgres_settings& settings)
    : settings_(settings), socket_(std::move(executor)) {}

pg_connection::~pg_connection() {
  boost::system::error_code ignored;
  socket_.close(ignored);  // our duplicate; libpq closes its own
  if (conn_) PQfinish(conn_);
}

std::string pg_connection::libpq_error() const {
  return one_line(conn_ ? PQerrorMessage(conn_) : "libpq could not allocate a connection");
}

bool pg_connection::watch_socket() {
  const int fd = PQsocket(conn_);
  struct stat info {};
  if (fd < 0 || ::fstat(fd, &info) != 0) return false;
  if (fd == watched_fd_ && info.st_ino == watched_ino_) return true;
  boost::system::error_code ec;
  socket_.close(ec);
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;
  socket_.assign(copy, ec);
  if (ec) {
    ::close(copy);
    return false;
  }
  watched_fd_ = fd;
  watched_ino_ = info.st_ino;
  return true;
}

asio::awaitable<boost::system::error_code> pg_connection::wait(wait_type what) {
  auto [ec] = co_await socket_.async_wait(what, asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

asio::awaitable<std::string> pg_connection::connect() {
  const std::string port = std::to_string(settings_.port);
  // No TLS or GSS negotiation: the plain protocol, which faultline's protocol-aware proxy reads.
  std::vector<const char*> keys{"host", "port", "dbname", "user", "sslmode", "gssencmode", "application_name"};
  std::vector<const char*> values{settings_.host.c_str(), port.c_str(), settings_.dbname.c_str(),
                                  settings_.user.c_str(), "disable", "disable", "faultline-shop"};
  if (!settings_.password.empty()) {
    keys.push_back("password");
    values.push_back(settings_.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  conn_ = PQconnectStartParams(keys.data(), values.data(), 0);
  if (!conn_ || PQstatus(conn_) == CONNECTION_BAD) co_return libpq_error();
  // libpq's protocol: act as if the last poll asked to wait for writing, then follow each answer.
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED) co_return libpq_error();
    if (!watch_socket()) co_return "cannot watch the connection's socket: " + libpq_error();
    if (auto ec = co_await wait(polling == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write))
      co_return "connecting: " + ec.message();
    polling = PQconnectPoll(conn_);
  }
  if (!watch_socket() || PQsetnonblocking(conn_, 1) != 0) co_return libpq_error();
  co_return std::string{};
}

asio::awaitable<pg_reply> pg_connection::query(const char* sql, const std::string* parameter) {
  const char* value = parameter ? parameter->c_str() : nullptr;
  if (!PQsendQueryParams(conn_, sql, parameter ? 1 : 0, nullptr, &value, nullptr, nullptr, 0))
    co_return pg_reply{false, {}, libpq_error()};
  for (int pending = PQflush(conn_); pending != 0; pending = PQflush(conn_)) {
    if (pending < 0) co_return pg_reply{false, {}, libpq_error()};
    if (auto ec = co_await wait(wait_type::wait_write)) co_return pg_reply{false, {}, "sending: " + ec.message()};
  }

  pg_reply reply{true, {}, {}};
  for (;;) {
    // Read until a result is complete, so PQgetResult does not block.
    for (;;) {
      if (!PQconsumeInput(conn_)) co_return pg_reply{false, {}, libpq_error()};
      if (!PQisBusy(conn_)) break;
      if (auto ec = co_await wait(wait_type::wait_read)) co_return pg_reply{false, {}, "waiting: " + ec.message()};
    }
    PGresult* result = PQgetResult(conn_);
    if (!result) break;  // the statement is done
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      if (!reply.value && PQntuples(result) > 0 && PQnfields(result) > 0 && !PQgetisnull(result, 0, 0))
        reply.value = PQgetvalue(result, 0, 0);
    } else {
      const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      reply = pg_reply{false, {},
                       one_line(PQresultErrorMessage(result)) + " (SQLSTATE " +
                           (sqlstate ? sqlstate : "none") + ")"};
    }
    PQclear(result);
  }
  co_return reply;
}

bool pg_connection::reusable() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

bool pg_connection::idle_and_alive() {
  // Reads whatever arrived while idle without blocking; fails if the server or a proxy closed it.
  return reusable() && PQconsumeInput(conn_) == 1 && reusable();
}

postgres_client::postgres_client(asio::any_io_executor executor, postgres_settings settings, int pool_size)
    : settings_(std::move(settings)),
      pool_(std::make_shared<connection_pool<pg_connection>>(
          pool_size, [executor, s = settings_] { return std::make_unique<pg_connection>(executor, s); })) {}

asio::awaitable<pg_reply> postgres_client::run(const char* sql, const std::string* parameter) {
  auto got = co_await pool_->acquire();
  if (!got.connection) co_return pg_reply{false, {}, got.error};
  pg_reply reply = co_await got.connection->query(sql, parameter);
  if (got.connection->reusable()) got.connection.keep();
  co_return reply;
}

asio::awaitable<order_lookup> postgres_client::find_order(std::int64_t id) {
  const std::string parameter = std::to_string(id);
  pg_reply reply = co_await run(find_order_sql, &parameter);
  if (!reply.ok) co_return order_lookup{lookup_status::failed, {}, std::move(reply.error)};
  if (!reply.value) co_return order_lookup{lookup_status::not_found, {}, {}};
  co_return order_lookup{lookup_status::found, std::move(*reply.value), {}};
}

asio::awaitable<std::string> postgres_client::ping() {
  pg_reply reply = co_await run("SELECT 1", nullptr);
  co_return reply.ok ? std::string{} : reply.error;
}

}  // namespace faultline::shop
