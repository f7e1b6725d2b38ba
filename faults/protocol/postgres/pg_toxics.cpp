#include "faults/protocol/postgres/pg_toxics.hpp"

#include "faults/protocol/message_toxic.hpp"

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
      throw setting_error("match", fmt::format("'{}' is not a valid regular expression: {} at position {} ('{}' <-- here); "
                                               "escape special characters with \\",
                                               pattern_, regex_problem(e), pos, pattern_.substr(0, std::min(pos + 1, pattern_.size()))));
    }
  }
  for (const auto& name : classes) {
    auto c = parse_statement_class(name);
    if (!c)
      throw setting_error("statements", fmt::format("unknown statement class '{}' (known: {})", name, fmt::join(statement_class_names(), ", ")));
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

void query_match::describe(nlohmann::ordered_json& attributes) const {
  attributes["match"] = pattern_;
  attributes["statements"] = class_names_;
}

nlohmann::ordered_json query_toxic::with_match(nlohmann::ordered_json attributes) const {
  match_.describe(attributes);
  return attributes;
}

pg_delay_toxic::pg_delay_toxic(query_match match, proxy::duration delay, proxy::duration jitter)
    : query_toxic(std::move(match)), delay_(delay), jitter_(jitter) {
  if (delay_.count() < 0) throw setting_error("delay", "delay must be 0 or more");
  if (jitter_.count() < 0) throw setting_error("jitter", "jitter must be 0 or more");
  if (jitter_ > delay_)
    throw setting_error("jitter", "jitter is larger than the delay: delays would be cut off at 0; make jitter at most the delay");
}

nlohmann::ordered_json pg_delay_toxic::attributes() const {
  return with_match({{"delay", millis_json(delay_)}, {"jitter", millis_json(jitter_)}});
}

void check_sqlstate(const std::string& sqlstate) {
  bool ok = sqlstate.size() == 5;
  for (char c : sqlstate) ok = ok && (std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z'));
  if (!ok)
    throw setting_error("sqlstate", fmt::format("'{}' is not a SQLSTATE: it takes five digits or upper-case letters, e.g. 40001 "
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

pg_error_toxic::pg_error_toxic(query_match match, std::string sqlstate, std::string message, std::string severity)
    : query_toxic(std::move(match)), sqlstate_(std::move(sqlstate)), given_message_(std::move(message)), severity_(std::move(severity)) {
  check_sqlstate(sqlstate_);
  message_ = given_message_.empty() ? default_message(sqlstate_) : given_message_;
  if (message_.find('\0') != std::string::npos) throw setting_error("message", "message must not contain NUL characters");
  for (auto& c : severity_) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (severity_ != "ERROR" && severity_ != "FATAL")
    throw setting_error("severity", fmt::format("severity must be ERROR (the connection stays usable) or FATAL (it ends), got '{}'", severity_));
}

nlohmann::ordered_json pg_error_toxic::attributes() const {
  return with_match({{"sqlstate", sqlstate_}, {"message", given_message_}, {"severity", severity_}});
}

pg_drop_toxic::pg_drop_toxic(query_match match, std::string mode) : query_toxic(std::move(match)), mode_(std::move(mode)) {
  if (mode_ != "reset" && mode_ != "close")
    throw setting_error("mode", fmt::format("mode must be reset (RST) or close (FIN), got '{}'", mode_));
}

nlohmann::ordered_json pg_drop_toxic::attributes() const { return with_match({{"mode", mode_}}); }

pg_refuse_toxic::pg_refuse_toxic(std::string sqlstate, std::string message) : sqlstate_(std::move(sqlstate)), given_message_(std::move(message)) {
  check_sqlstate(sqlstate_);
  message_ = given_message_.empty() ? default_message(sqlstate_) : given_message_;
  if (message_.find('\0') != std::string::npos) throw setting_error("message", "message must not contain NUL characters");
}

nlohmann::ordered_json pg_refuse_toxic::attributes() const { return {{"sqlstate", sqlstate_}, {"message", given_message_}}; }

}  // namespace faultline::protocol::postgres
