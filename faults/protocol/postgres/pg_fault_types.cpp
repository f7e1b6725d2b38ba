#include "faults/protocol/postgres/pg_fault_types.hpp"

#include "faults/protocol/message_fault.hpp"
#include "faults/protocol/postgres/pg_toxics.hpp"

#include <fmt/format.h>

namespace faultline::protocol::postgres {
namespace {

using std::chrono::nanoseconds;

param_schema with_match(param_schema own) {
  own.push_back({"match", param_kind::text, "regular expression searched in the SQL text (Perl syntax, case-insensitive)", std::nullopt,
                 false});
  own.push_back({"statements", param_kind::text_list,
                 "statement classes: select, insert, update, delete, ddl, transaction, copy, other", std::nullopt, false});
  return own;
}

query_match match_of(const params& p) {
  return query_match(p.maybe<std::string>("match").value_or(""), p.maybe<std::vector<std::string>>("statements").value_or(std::vector<std::string>{}));
}

std::string millis(std::uint64_t ns) {
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
}

}  // namespace

std::vector<faults::fault_type> postgres_fault_types() {
  std::vector<faults::fault_type> out;

  out.push_back(message_fault_type({
      "pg_delay",
      "hold the response to matching PostgreSQL queries for a delay (+/- jitter), keeping order",
      std::string(protocol_name),
      "query",
      with_match({
          {"delay", param_kind::duration, "how long the response is held", std::nullopt, true, 0.0},
          {"jitter", param_kind::duration, "uniform +/- variation of the delay", nanoseconds(0), false, 0.0},
      }),
      [](const params& p) { return std::make_shared<const pg_delay_toxic>(match_of(p), p.duration("delay"), p.duration("jitter")); },
      [](const proxy::toxic_stats& s) {
        auto avg = s.messages_affected_total ? s.delay_ns_total / s.messages_affected_total : 0;
        return fmt::format("{} delayed by {} on average", s.messages_affected_total, millis(avg));
      },
      nullptr,
  }));

  out.push_back(message_fault_type({
      "pg_error",
      "answer matching PostgreSQL queries with an error (SQLSTATE, message) instead of running them",
      std::string(protocol_name),
      "query",
      with_match({
          {"sqlstate", param_kind::text, "the SQLSTATE to report, e.g. 40001 serialization_failure, 57014 query_canceled", std::nullopt, true},
          {"message", param_kind::text, "the error message (default: PostgreSQL's text for the SQLSTATE)", std::string(), false},
          {"severity", param_kind::choice, "ERROR keeps the connection usable; FATAL ends it", std::string("ERROR"), false, {}, {},
           {"ERROR", "FATAL"}},
      }),
      [](const params& p) {
        return std::make_shared<const pg_error_toxic>(match_of(p), p.text("sqlstate"), p.text("message"), p.text("severity"));
      },
      [](const proxy::toxic_stats& s) { return fmt::format("{} answered with the error", s.messages_affected_total); },
      nullptr,
  }));

  out.push_back(message_fault_type({
      "pg_drop",
      "cut the connection while a matching PostgreSQL query is in flight (the server runs it, the client never hears back)",
      std::string(protocol_name),
      "query",
      with_match({
          {"mode", param_kind::choice, "reset (RST) or close (FIN)", std::string("reset"), false, {}, {}, {"reset", "close"}},
      }),
      [](const params& p) { return std::make_shared<const pg_drop_toxic>(match_of(p), p.text("mode")); },
      [](const proxy::toxic_stats& s) {
        return fmt::format("{} connections cut mid-query ({} reset, {} closed)", s.messages_affected_total, s.connections_reset_total,
                           s.connections_closed_total);
      },
      nullptr,
  }));

  out.push_back(message_fault_type({
      "pg_refuse",
      "refuse new PostgreSQL connections at startup with a FATAL error (53300 too_many_connections)",
      std::string(protocol_name),
      "connection",
      {
          {"sqlstate", param_kind::text, "the SQLSTATE to report", std::string("53300"), false},
          {"message", param_kind::text, "the error message (default: PostgreSQL's text for the SQLSTATE)", std::string(), false},
      },
      [](const params& p) { return std::make_shared<const pg_refuse_toxic>(p.text("sqlstate"), p.text("message")); },
      [](const proxy::toxic_stats& s) { return fmt::format("{} refused at startup", s.messages_affected_total); },
      nullptr,
  }));
  return out;
}

}  // namespace faultline::protocol::postgres
