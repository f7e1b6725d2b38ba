#pragma once
// The PostgreSQL message-level toxics, each with its descriptor: immutable settings that the
// postgres session applies per query. pg_delay holds the response, pg_error answers with an
// ErrorResponse instead of running the query, pg_drop cuts the connection while the query is in
// flight, pg_refuse turns connections away at startup. Queries are chosen by a query_match.

#include "faults/protocol/message_toxic.hpp"
#include "faults/protocol/postgres/sql_class.hpp"
#include "faults/proxy/toxic_descriptor.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::protocol::postgres {

inline constexpr std::string_view protocol_name = "postgres";

// A query as toxics see it.
struct query_text {
  std::string_view sql;
  class_set classes;
};

// Which queries a toxic acts on: a regular expression (Perl syntax, case-insensitive) searched
// in the SQL text, and/or statement classes; with neither, every query.
class query_match {
public:
  // The `match` and `statements` parameters.
  static std::vector<proxy::toxic_param> params_for();

  // Throw param_error naming "match" (with the position of the error in the pattern) or
  // "statements".
  explicit query_match(const params& p);
  query_match(std::string pattern, std::vector<std::string> classes);
  bool matches(const query_text& q) const;
  bool wants_classes() const { return !classes_.empty(); }
  // As given, for a toxic's settings.
  const std::string& pattern() const { return pattern_; }
  const std::vector<std::string>& class_names() const { return class_names_; }

private:
  struct compiled;
  std::string pattern_;
  std::shared_ptr<const compiled> regex_;
  class_set classes_;
  std::vector<std::string> class_names_;
};

// The toxics that act on queries.
using query_toxic = matching_toxic<query_match>;

class pg_delay_toxic final : public query_toxic, public message_delay {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit pg_delay_toxic(const params& p);  // throws param_error
  pg_delay_toxic(const query_match& match, proxy::duration delay, proxy::duration jitter);
};

class pg_error_toxic final : public query_toxic {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  // severity: ERROR (the connection stays usable) or FATAL (the connection ends). An empty
  // message takes the usual text of the SQLSTATE. Throws param_error.
  explicit pg_error_toxic(const params& p);
  pg_error_toxic(const query_match& match, std::string sqlstate, std::string message, std::string severity);
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& message() const { return message_; }
  bool fatal() const { return severity_ == "FATAL"; }

private:
  std::string sqlstate_;
  std::string message_;
  std::string severity_;
};

class pg_drop_toxic final : public query_toxic {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit pg_drop_toxic(const params& p);  // mode: reset (RST) or close (FIN)
  pg_drop_toxic(const query_match& match, std::string mode);
  bool reset() const { return reset_; }

private:
  bool reset_;
};

// Refuses connections at startup with a FATAL ErrorResponse (53300 too_many_connections unless
// told otherwise); the server never sees the startup message.
class pg_refuse_toxic final : public proxy::toxic_config {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit pg_refuse_toxic(const params& p);
  pg_refuse_toxic(std::string sqlstate, std::string message);
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& message() const { return message_; }

private:
  std::string sqlstate_;
  std::string message_;
};

// Checks a SQLSTATE (five characters, digits and upper-case letters); throws param_error.
void check_sqlstate(const std::string& sqlstate);
// PostgreSQL's message for common SQLSTATEs, or a faultline text naming the code.
std::string default_message(const std::string& sqlstate);

}  // namespace faultline::protocol::postgres
