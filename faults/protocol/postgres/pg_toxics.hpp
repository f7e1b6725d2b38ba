#pragma once
// The PostgreSQL message-level toxics: immutable settings that the postgres session applies per
// query. pg_delay holds the response, pg_error answers with an ErrorResponse instead of running
// the query, pg_drop cuts the connection while the query is in flight, pg_refuse turns
// connections away at startup. Queries are chosen by a query_match.

#include "faults/protocol/postgres/sql_class.hpp"
#include "faults/proxy/toxic.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::proxy {
class toxic_registry;
}

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
  // Throws setting_error naming "match" (with the position of the error in the pattern) or
  // "statements".
  query_match(std::string pattern, std::vector<std::string> classes);
  bool matches(const query_text& q) const;
  bool wants_classes() const { return !classes_.empty(); }
  void describe(nlohmann::ordered_json& attributes) const;  // adds "match" and "statements"

private:
  struct compiled;
  std::string pattern_;
  std::shared_ptr<const compiled> regex_;
  class_set classes_;
  std::vector<std::string> class_names_;
};

// What the toxics acting on queries share.
class query_toxic : public proxy::toxic_config {
public:
  explicit query_toxic(query_match match) : match_(std::move(match)) {}
  std::string_view protocol() const override { return protocol_name; }
  const query_match& match() const { return match_; }

protected:
  nlohmann::ordered_json with_match(nlohmann::ordered_json attributes) const;

private:
  query_match match_;
};

class pg_delay_toxic final : public query_toxic {
public:
  pg_delay_toxic(query_match match, proxy::duration delay, proxy::duration jitter);  // throws setting_error
  std::string_view type() const override { return "pg_delay"; }
  nlohmann::ordered_json attributes() const override;
  proxy::duration delay() const { return delay_; }
  proxy::duration jitter() const { return jitter_; }

private:
  proxy::duration delay_;
  proxy::duration jitter_;
};

class pg_error_toxic final : public query_toxic {
public:
  // severity: ERROR (the connection stays usable) or FATAL (the connection ends). An empty
  // message takes the usual text of the SQLSTATE.
  pg_error_toxic(query_match match, std::string sqlstate, std::string message, std::string severity);
  std::string_view type() const override { return "pg_error"; }
  nlohmann::ordered_json attributes() const override;
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& message() const { return message_; }
  bool fatal() const { return severity_ == "FATAL"; }

private:
  std::string sqlstate_;
  std::string given_message_;  // as configured; empty: the SQLSTATE's usual text
  std::string message_;
  std::string severity_;
};

class pg_drop_toxic final : public query_toxic {
public:
  pg_drop_toxic(query_match match, std::string mode);  // mode: reset (RST) or close (FIN)
  std::string_view type() const override { return "pg_drop"; }
  nlohmann::ordered_json attributes() const override;
  bool reset() const { return mode_ == "reset"; }

private:
  std::string mode_;
};

// Refuses connections at startup with a FATAL ErrorResponse (53300 too_many_connections unless
// told otherwise); the server never sees the startup message.
class pg_refuse_toxic final : public proxy::toxic_config {
public:
  pg_refuse_toxic(std::string sqlstate, std::string message);
  std::string_view type() const override { return "pg_refuse"; }
  std::string_view protocol() const override { return protocol_name; }
  nlohmann::ordered_json attributes() const override;
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& message() const { return message_; }

private:
  std::string sqlstate_;
  std::string given_message_;
  std::string message_;
};

// Checks a SQLSTATE (five characters, digits and upper-case letters); throws setting_error.
void check_sqlstate(const std::string& sqlstate);
// PostgreSQL's message for common SQLSTATEs, or a faultline text naming the code.
std::string default_message(const std::string& sqlstate);

// pg_delay, pg_error, pg_drop and pg_refuse for the control API (in toxic_parsers.cpp).
void register_postgres_toxics(proxy::toxic_registry& registry);

}  // namespace faultline::protocol::postgres
