#include "faults/protocol/postgres/pg_toxics.hpp"

#include <boost/regex.hpp>
#include <fmt/format.h>

#include <cctype>

namespace faultline::protocol::postgres {

struct query_match::compiled {
  boost::regex regex;
};

namespace {

// Boost's own texts are long; a user wants what is wrong and where.
std::string regex_problem(const boost::regex_error& e) {
  using namespace boost::regex_constants;
  switch (e.code()) {
    case error_paren: return "unmatched ( or )";
    case error_brack: return "unmatched [ or ]";
    case error_brace: return "unmatched { or }";
    case error_badbrace: return "invalid repetition count in { }";
    case error_range: return "invalid character range";
    case error_escape: return "invalid escape";
    case error_badrepeat: return "nothing to repeat before *, + or ?";
    case error_ctype: return "unknown character class";
    case error_backref: return "back reference to a group that does not exist";
    case error_complexity:
    case error_stack: return "pattern too complex";
    case error_empty: return "empty pattern part";
    default: break;
  }
  std::string text = e.what();
  auto stop = text.find('.');
  return stop == std::string::npos ? text : text.substr(0, stop);
}

}  // namespace

query_match::query_match(std::string pattern, std::vector<std::string> classes) : pattern_(std::move(pattern)) {
  if (!pattern_.empty()) {
    try {
      auto c = std::make_shared<compiled>();
      c->regex.assign(pattern_, boost::regex::perl | boost::regex::icase | boost::regex::optimize);
      regex_ = std::move(c);
    } catch (const boost::regex_error& e) {
      auto pos = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, e.position()));
      throw param_error("match", fmt::format("'{}' is not a valid regular expression: {} at position {} ('{}' <-- here); "
                                               "escape special characters with \\",
                                               pattern_, regex_problem(e), pos, pattern_.substr(0, std::min(pos + 1, pattern_.size()))));
    }
  }
  for (const auto& name : classes) {
    auto c = parse_statement_class(name);
    if (!c)
      throw param_error("statements", fmt::format("unknown statement class '{}' (known: {})", name, fmt::join(statement_class_names(), ", ")));
    classes_.add(*c);
    class_names_.push_back(to_string(*c));
  }
}

bool query_match::matches(const query_text& q) const {
  if (!classes_.empty() && !classes_.intersects(q.classes)) return false;
  if (!regex_) return true;
  try {
    return boost::regex_search(q.sql.begin(), q.sql.end(), regex_->regex);
  } catch (const std::runtime_error&) {
    return false;  // the match became too complex for this text (Boost's guard against runaway backtracking)
  }
}

void check_sqlstate(const std::string& sqlstate) {
  bool ok = sqlstate.size() == 5;
  for (char c : sqlstate) ok = ok && (std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z'));
  if (!ok)
    throw param_error("sqlstate", fmt::format("'{}' is not a SQLSTATE: it takes five digits or upper-case letters, e.g. 40001 "
                                                "(serialization_failure) or 57014 (query_canceled)",
                                                sqlstate));
}

std::string default_message(const std::string& sqlstate) {
  static const std::pair<const char*, const char*> known[] = {
      {"57014", "canceling statement due to statement timeout"},
      {"40001", "could not serialize access due to concurrent update"},
      {"40P01", "deadlock detected"},
      {"53300", "sorry, too many clients already"},
      {"53200", "out of memory"},
      {"53100", "could not extend file: No space left on device"},
      {"57P01", "terminating connection due to administrator command"},
      {"57P03", "the database system is starting up"},
      {"55P03", "could not obtain lock on row in relation"},
      {"25006", "cannot execute statement in a read-only transaction"},
      {"23505", "duplicate key value violates unique constraint"},
      {"08006", "connection failure"},
      {"XX000", "internal error"},
  };
  for (const auto& [code, text] : known)
    if (sqlstate == code) return text;
  return fmt::format("faultline injected error {}", sqlstate);
}

namespace {

params with_match(const query_match& match, params p) {
  p.set("match", match.pattern());
  p.set("statements", match.class_names());
  return p;
}

// An empty message takes the usual text of the SQLSTATE.
std::string message_for(const std::string& sqlstate, const std::string& given) {
  auto message = given.empty() ? default_message(sqlstate) : given;
  if (message.find('\0') != std::string::npos) throw param_error("message", "message must not contain NUL characters");
  return message;
}

std::vector<proxy::toxic_param> with_match(std::vector<proxy::toxic_param> own) {
  for (auto& p : query_match::params_for()) own.push_back(std::move(p));
  return own;
}

const std::string pg(protocol_name);

}  // namespace

std::vector<proxy::toxic_param> query_match::params_for() {
  return {
      proxy::text_param("match", "regular expression searched in the SQL text (Perl syntax, case-insensitive); default: every query", ""),
      proxy::list_param("statements", "statement classes: select, insert, update, delete, ddl, transaction, copy, other; default: every class"),
  };
}

query_match::query_match(const params& p) : query_match(p.text("match"), p.list("statements")) {}

const proxy::toxic_descriptor& pg_delay_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "pg_delay",
      .summary = "hold the response to matching PostgreSQL queries for a delay (+/- jitter), keeping order",
      .protocol = pg,
      .noun = "query",
      .params = with_match(message_delay::params_for("the response")),
      .make = proxy::made_of<pg_delay_toxic>(),
      .describe = delayed,
  };
  return d;
}

pg_delay_toxic::pg_delay_toxic(const params& p) : query_toxic(type_descriptor(), p), message_delay(p) {}

pg_delay_toxic::pg_delay_toxic(const query_match& match, proxy::duration delay, proxy::duration jitter)
    : pg_delay_toxic(with_match(match, proxy::settings_of({{"delay", delay}, {"jitter", jitter}}))) {}

const proxy::toxic_descriptor& pg_error_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "pg_error",
      .summary = "answer matching PostgreSQL queries with an error (SQLSTATE, message) instead of running them",
      .protocol = pg,
      .noun = "query",
      .params = with_match({
          proxy::text_param("sqlstate", "the SQLSTATE to report, e.g. 40001 serialization_failure, 57014 query_canceled", std::nullopt),
          proxy::text_param("message", "the error message (default: PostgreSQL's text for the SQLSTATE)", ""),
          proxy::choice_param("severity", "ERROR keeps the connection usable; FATAL ends it", "ERROR", {"ERROR", "FATAL"}),
      }),
      .make = proxy::made_of<pg_error_toxic>(),
      .describe = [](const proxy::toxic_stats& s) { return affected(s, fmt::format("{} answered with the error", s.messages_affected_total)); },
  };
  return d;
}

pg_error_toxic::pg_error_toxic(const params& p)
    : query_toxic(type_descriptor(), p), sqlstate_(p.text("sqlstate")), severity_(p.text("severity")) {
  check_sqlstate(sqlstate_);
  message_ = message_for(sqlstate_, p.text("message"));
  for (auto& c : severity_) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (severity_ != "ERROR" && severity_ != "FATAL")
    throw param_error("severity", fmt::format("severity must be ERROR (the connection stays usable) or FATAL (it ends), got '{}'", severity_));
}

pg_error_toxic::pg_error_toxic(const query_match& match, std::string sqlstate, std::string message, std::string severity)
    : pg_error_toxic(with_match(match, proxy::settings_of({{"sqlstate", sqlstate}, {"message", message}, {"severity", severity}}))) {}

const proxy::toxic_descriptor& pg_drop_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "pg_drop",
      .summary = "cut the connection while a matching PostgreSQL query is in flight (the server runs it, the client never hears back)",
      .protocol = pg,
      .noun = "query",
      .params = with_match({proxy::choice_param("mode", "reset (RST) or close (FIN)", "reset", {"reset", "close"})}),
      .make = proxy::made_of<pg_drop_toxic>(),
      .describe = [](const proxy::toxic_stats& s) {
        return affected(s, fmt::format("{} connections cut mid-query ({} reset, {} closed)", s.messages_affected_total, s.connections_reset_total,
                                       s.connections_closed_total));
      },
  };
  return d;
}

pg_drop_toxic::pg_drop_toxic(const params& p) : query_toxic(type_descriptor(), p), reset_(p.text("mode") == "reset") {
  if (p.text("mode") != "reset" && p.text("mode") != "close")
    throw param_error("mode", fmt::format("mode must be reset (RST) or close (FIN), got '{}'", p.text("mode")));
}

pg_drop_toxic::pg_drop_toxic(const query_match& match, std::string mode) : pg_drop_toxic(with_match(match, proxy::settings_of({{"mode", mode}}))) {}

const proxy::toxic_descriptor& pg_refuse_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "pg_refuse",
      .summary = "refuse new PostgreSQL connections at startup with a FATAL error (53300 too_many_connections)",
      .protocol = pg,
      .noun = "connection",
      .params = {
          proxy::text_param("sqlstate", "the SQLSTATE to report", "53300"),
          proxy::text_param("message", "the error message (default: PostgreSQL's text for the SQLSTATE)", ""),
      },
      .make = proxy::made_of<pg_refuse_toxic>(),
      .describe = [](const proxy::toxic_stats& s) { return affected(s, fmt::format("{} refused at startup", s.messages_affected_total)); },
  };
  return d;
}

pg_refuse_toxic::pg_refuse_toxic(const params& p) : proxy::toxic_config(type_descriptor(), p), sqlstate_(p.text("sqlstate")) {
  check_sqlstate(sqlstate_);
  message_ = message_for(sqlstate_, p.text("message"));
}

pg_refuse_toxic::pg_refuse_toxic(std::string sqlstate, std::string message)
    : pg_refuse_toxic(proxy::settings_of({{"sqlstate", sqlstate}, {"message", message}})) {}

}  // namespace faultline::protocol::postgres
