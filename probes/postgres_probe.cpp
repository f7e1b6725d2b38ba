#include "probes/postgres_probe.hpp"

#include "core/address.hpp"

#include <libpq-fe.h>

#include <charconv>

namespace faultline::probes {
namespace asio = boost::asio;
using wait = asio::posix::descriptor_base;

namespace {

// A libpq conninfo value: single-quoted, with \ and ' escaped.
std::string conninfo_value(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::optional<double> number_in(const char* text) {
  double v = 0;
  const char* end = text + std::char_traits<char>::length(text);
  auto [ptr, ec] = std::from_chars(text, end, v);
  if (ec != std::errc() || ptr != end || ptr == text) return std::nullopt;
  return v;
}

}  // namespace

postgres_probe_config postgres_probe_config::from(const params& p) {
  postgres_probe_config c;
  faultline::address where;
  try {
    where = parse_address(p.text("address"));
  } catch (const std::invalid_argument& e) {
    throw param_error("address", e.what());
  }
  c.conninfo = "host=" + conninfo_value(where.host) +
               " port=" + conninfo_value(std::to_string(where.port)) +
               " user=" + conninfo_value(p.maybe<std::string>("user").value_or("postgres")) +
               " dbname=" + conninfo_value(p.maybe<std::string>("database").value_or("postgres")) +
               " application_name='faultline probe' gssencmode=disable";
  if (auto pw = p.maybe<std::string>("password")) c.conninfo += " password=" + conninfo_value(*pw);
  c.query = p.maybe<std::string>("query").value_or("SELECT 1");
  c.expect = p.maybe<std::string>("expect");
  c.timeout = p.duration("timeout");
  return c;
}

outcome outcome_of_sqlstate(std::string_view sqlstate) {
  if (sqlstate == "53300") return outcome::connect_refused;
  if (sqlstate == "57014") return outcome::timeout;
  if (sqlstate.starts_with("08") || sqlstate.starts_with("57P")) return outcome::reset;
  return outcome::protocol_error;
}

postgres_probe::postgres_probe(std::shared_ptr<const postgres_probe_config> config, asio::any_io_executor executor)
    : config_(std::move(config)), waiter_(std::move(executor)) {}

postgres_probe::~postgres_probe() { close(); }

void postgres_probe::close() {
  waiter_.reset();
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

asio::awaitable<std::optional<outcome>> postgres_probe::connect(clock::time_point deadline) {
  conn_ = PQconnectStart(config_->conninfo.c_str());
  if (!conn_ || PQstatus(conn_) == CONNECTION_BAD) {
    close();
    co_return outcome::connect_refused;
  }
  auto status = PGRES_POLLING_WRITING;
  for (;;) {
    if (status == PGRES_POLLING_OK) break;
    if (status == PGRES_POLLING_FAILED) {
      close();
      co_return outcome::connect_refused;
    }
    // libpq may replace its socket between attempts: register afresh each time.
    waiter_.reset();
    const auto r = co_await waiter_.wait(PQsocket(conn_), status == PGRES_POLLING_READING ? wait::wait_read : wait::wait_write, deadline);
    if (r != fd_waiter::result::ready) {
      close();
      co_return r == fd_waiter::result::timeout ? outcome::timeout : outcome::connect_refused;
    }
    status = PQconnectPoll(conn_);
  }
  waiter_.reset();
  if (PQsetnonblocking(conn_, 1) != 0) {
    close();
    co_return outcome::reset;
  }
  co_return std::nullopt;
}

asio::awaitable<sample> postgres_probe::check(clock::time_point intended) {
  const auto started = clock::now();
  const auto deadline = started + config_->timeout;
  if (conn_ && PQstatus(conn_) != CONNECTION_OK) close();
  if (!conn_) {
    if (auto failure = co_await connect(deadline)) co_return finished(intended, started, *failure);
  }
  auto fail = [&](outcome o) {
    close();  // a timed-out or broken connection is not reused
    return finished(intended, started, o);
  };
  if (PQsendQuery(conn_, config_->query.c_str()) != 1) co_return fail(outcome::reset);
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) co_return fail(outcome::reset);
    const auto r = co_await waiter_.wait(PQsocket(conn_), wait::wait_write, deadline);
    if (r != fd_waiter::result::ready) co_return fail(r == fd_waiter::result::timeout ? outcome::timeout : outcome::reset);
  }
  // Several statements may run: the first error decides; otherwise the last rows returned.
  std::optional<outcome> error;
  std::optional<outcome> result;
  std::optional<double> value;
  for (;;) {
    while (PQisBusy(conn_)) {
      const auto r = co_await waiter_.wait(PQsocket(conn_), wait::wait_read, deadline);
      if (r != fd_waiter::result::ready) co_return fail(r == fd_waiter::result::timeout ? outcome::timeout : outcome::reset);
      if (PQconsumeInput(conn_) == 0) co_return fail(outcome::reset);
    }
    PGresult* res = PQgetResult(conn_);
    if (!res) break;
    switch (PQresultStatus(res)) {
      case PGRES_TUPLES_OK:
      case PGRES_SINGLE_TUPLE: {
        const bool has_value = PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0);
        const char* text = has_value ? PQgetvalue(res, 0, 0) : nullptr;
        value = text ? number_in(text) : std::nullopt;
        result = (config_->expect && (!text || *config_->expect != text)) ? outcome::unexpected_value : outcome::ok;
        break;
      }
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        if (!result) result = config_->expect ? outcome::unexpected_value : outcome::ok;
        break;
      default:
        if (!error) {
          const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
          error = state ? outcome_of_sqlstate(state) : outcome::reset;
        }
    }
    PQclear(res);
  }
  if (error) result = error;
  if (PQstatus(conn_) != CONNECTION_OK) close();
  co_return finished(intended, started, result.value_or(outcome::protocol_error), value);
}

}  // namespace faultline::probes
