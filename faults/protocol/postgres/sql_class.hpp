#pragma once
// Statement classes of SQL text, for matching queries by kind rather than by pattern: a light
// lexer (comments, string literals, quoted identifiers, dollar quotes, parentheses) finds each
// statement's leading keyword, looking past WITH clauses to the main verb. Never fails: text it
// cannot read is `other`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::protocol::postgres {

enum class statement_class : std::uint8_t { select, insert, update, delete_, ddl, transaction, copy, other };

// A set of statement classes (a query string may hold several statements).
class class_set {
public:
  void add(statement_class c) { bits_ |= bit(c); }
  bool has(statement_class c) const { return (bits_ & bit(c)) != 0; }
  bool intersects(class_set o) const { return (bits_ & o.bits_) != 0; }
  bool empty() const { return bits_ == 0; }
  bool operator==(const class_set&) const = default;

private:
  static std::uint16_t bit(statement_class c) { return static_cast<std::uint16_t>(1u << static_cast<unsigned>(c)); }
  std::uint16_t bits_ = 0;
};

// The classes of the statements in `sql`; empty for text with no statement (blank, comments).
class_set classify(std::string_view sql);

const char* to_string(statement_class c);
std::optional<statement_class> parse_statement_class(std::string_view name);  // "select", ..., "other"
std::vector<std::string> statement_class_names();

}  // namespace faultline::protocol::postgres
