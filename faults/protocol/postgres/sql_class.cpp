#include "faults/protocol/postgres/sql_class.hpp"

#include <array>
#include <cctype>

namespace faultline::protocol::postgres {
namespace {

constexpr std::array<std::pair<statement_class, const char*>, 8> names{{
    {statement_class::select, "select"},
    {statement_class::insert, "insert"},
    {statement_class::update, "update"},
    {statement_class::delete_, "delete"},
    {statement_class::ddl, "ddl"},
    {statement_class::transaction, "transaction"},
    {statement_class::copy, "copy"},
    {statement_class::other, "other"},
}};

bool word_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

bool equals_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// One token at parenthesis depth 0 of a statement: a word, "(" (the start of a parenthesised
// part, whose inside is skipped), or another symbol.
struct token {
  enum class kind { word, open, symbol, end_of_statement, end_of_text } what;
  std::string_view text;
};

class lexer {
public:
  explicit lexer(std::string_view sql) : s_(sql) {}

  token next() {
    skip_space_and_comments();
    if (at_ >= s_.size()) return {token::kind::end_of_text, {}};
    char c = s_[at_];
    if (c == ';') {
      ++at_;
      return {token::kind::end_of_statement, {}};
    }
    if (c == '(') {
      skip_parenthesised();
      return {token::kind::open, {}};
    }
    if (c == '\'') {
      skip_quoted('\'', false);
      return {token::kind::symbol, {}};
    }
    if (c == '"') {
      skip_quoted('"', false);
      return {token::kind::symbol, {}};
    }
    if (c == '$' && skip_dollar_quoted()) return {token::kind::symbol, {}};
    if ((c == 'E' || c == 'e') && at_ + 1 < s_.size() && s_[at_ + 1] == '\'') {
      ++at_;
      skip_quoted('\'', true);
      return {token::kind::symbol, {}};
    }
    if (word_char(c)) {
      auto start = at_;
      while (at_ < s_.size() && word_char(s_[at_])) ++at_;
      return {token::kind::word, s_.substr(start, at_ - start)};
    }
    ++at_;
    return {token::kind::symbol, {}};
  }

private:
  void skip_space_and_comments() {
    while (at_ < s_.size()) {
      char c = s_[at_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++at_;
      } else if (c == '-' && at_ + 1 < s_.size() && s_[at_ + 1] == '-') {
        while (at_ < s_.size() && s_[at_] != '\n') ++at_;
      } else if (c == '/' && at_ + 1 < s_.size() && s_[at_ + 1] == '*') {
        skip_block_comment();
      } else {
        return;
      }
    }
  }

  void skip_block_comment() {  // nested, as PostgreSQL's are
    int depth = 0;
    while (at_ < s_.size()) {
      if (s_[at_] == '/' && at_ + 1 < s_.size() && s_[at_ + 1] == '*') {
        ++depth;
        at_ += 2;
      } else if (s_[at_] == '*' && at_ + 1 < s_.size() && s_[at_ + 1] == '/') {
        at_ += 2;
        if (--depth == 0) return;
      } else {
        ++at_;
      }
    }
  }

  void skip_quoted(char quote, bool backslash_escapes) {
    ++at_;  // the opening quote
    while (at_ < s_.size()) {
      char c = s_[at_++];
      if (backslash_escapes && c == '\\') {
        if (at_ < s_.size()) ++at_;
      } else if (c == quote) {
        if (at_ < s_.size() && s_[at_] == quote) ++at_;  // doubled quote
        else return;
      }
    }
  }

  // $tag$ ... $tag$; false (and nothing consumed) when this '$' starts no dollar quote.
  bool skip_dollar_quoted() {
    auto close = s_.find('$', at_ + 1);
    if (close == std::string_view::npos) return false;
    auto tag = s_.substr(at_, close - at_ + 1);
    for (std::size_t i = 1; i + 1 < tag.size(); ++i) {
      auto u = static_cast<unsigned char>(tag[i]);
      if (!(std::isalnum(u) || tag[i] == '_' || u >= 0x80) || (i == 1 && std::isdigit(u))) return false;
    }
    auto end = s_.find(tag, close + 1);
    at_ = end == std::string_view::npos ? s_.size() : end + tag.size();
    return true;
  }

  void skip_parenthesised() {
    int depth = 0;
    while (at_ < s_.size()) {
      skip_space_and_comments();
      if (at_ >= s_.size()) return;
      char c = s_[at_];
      if (c == '(') {
        ++depth;
        ++at_;
      } else if (c == ')') {
        ++at_;
        if (--depth == 0) return;
      } else if (c == '\'' || c == '"') {
        skip_quoted(c, false);
      } else if (c == '$') {
        if (!skip_dollar_quoted()) ++at_;
      } else if ((c == 'E' || c == 'e') && at_ + 1 < s_.size() && s_[at_ + 1] == '\'') {
        ++at_;
        skip_quoted('\'', true);
      } else {
        ++at_;
      }
    }
  }

  std::string_view s_;
  std::size_t at_ = 0;
};

std::optional<statement_class> verb_class(std::string_view w) {
  struct entry {
    const char* word;
    statement_class c;
  };
  static constexpr entry verbs[] = {
      {"SELECT", statement_class::select},   {"VALUES", statement_class::select},   {"TABLE", statement_class::select},
      {"SHOW", statement_class::select},     {"FETCH", statement_class::select},    {"INSERT", statement_class::insert},
      {"UPDATE", statement_class::update},   {"MERGE", statement_class::update},    {"DELETE", statement_class::delete_},
      {"CREATE", statement_class::ddl},      {"ALTER", statement_class::ddl},       {"DROP", statement_class::ddl},
      {"TRUNCATE", statement_class::ddl},    {"COMMENT", statement_class::ddl},     {"GRANT", statement_class::ddl},
      {"REVOKE", statement_class::ddl},      {"REINDEX", statement_class::ddl},     {"REFRESH", statement_class::ddl},
      {"SECURITY", statement_class::ddl},    {"IMPORT", statement_class::ddl},      {"BEGIN", statement_class::transaction},
      {"START", statement_class::transaction}, {"COMMIT", statement_class::transaction}, {"END", statement_class::transaction},
      {"ROLLBACK", statement_class::transaction}, {"ABORT", statement_class::transaction},
      {"SAVEPOINT", statement_class::transaction}, {"RELEASE", statement_class::transaction},
      {"COPY", statement_class::copy},
  };
  for (const auto& v : verbs)
    if (equals_ci(w, v.word)) return v.c;
  return std::nullopt;
}

// The class of one statement, from its first token on; stops at the end of the statement.
statement_class statement_of(token first, lexer& lx, token& after) {
  auto finish = [&](statement_class c) {
    for (after = lx.next(); after.what != token::kind::end_of_statement && after.what != token::kind::end_of_text; after = lx.next()) {
    }
    return c;
  };
  if (first.what == token::kind::open) return finish(statement_class::select);  // (SELECT ...) UNION ...
  if (first.what != token::kind::word) return finish(statement_class::other);
  if (equals_ci(first.text, "WITH")) {
    // WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (...) [, ...] main-statement
    for (auto t = lx.next();; t = lx.next()) {
      if (t.what == token::kind::end_of_statement || t.what == token::kind::end_of_text) {
        after = t;
        return statement_class::other;
      }
      if (t.what != token::kind::word) continue;
      if (auto c = verb_class(t.text); c && (*c == statement_class::select || *c == statement_class::insert ||
                                             *c == statement_class::update || *c == statement_class::delete_))
        return finish(*c);
    }
  }
  if (equals_ci(first.text, "PREPARE") || equals_ci(first.text, "SET")) {
    // PREPARE TRANSACTION and SET TRANSACTION belong to transactions; PREPARE name and SET x don't.
    auto second = lx.next();
    if (second.what == token::kind::word && equals_ci(second.text, "TRANSACTION")) return finish(statement_class::transaction);
    if (second.what == token::kind::end_of_statement || second.what == token::kind::end_of_text) {
      after = second;
      return statement_class::other;
    }
    return finish(statement_class::other);
  }
  return finish(verb_class(first.text).value_or(statement_class::other));
}

}  // namespace

class_set classify(std::string_view sql) {
  class_set out;
  lexer lx(sql);
  for (auto t = lx.next(); t.what != token::kind::end_of_text;) {
    if (t.what == token::kind::end_of_statement) {
      t = lx.next();
      continue;
    }
    token after{token::kind::end_of_text, {}};
    out.add(statement_of(t, lx, after));
    if (after.what == token::kind::end_of_text) break;
    t = lx.next();
  }
  return out;
}

const char* to_string(statement_class c) {
  for (const auto& [k, name] : names)
    if (k == c) return name;
  return "other";
}

std::optional<statement_class> parse_statement_class(std::string_view name) {
  for (const auto& [k, n] : names)
    if (equals_ci(name, n)) return k;
  return std::nullopt;
}

std::vector<std::string> statement_class_names() {
  std::vector<std::string> out;
  for (const auto& [k, name] : names) out.push_back(name);
  return out;
}

}  // namespace faultline::protocol::postgres
