#pragma once
// The patterns protocol toxics choose messages with: Redis-style globs (Redis keys, HTTP paths
// and header values, gRPC services) and regular expressions (SQL text, HTTP paths), each
// compiled once with an error that names the parameter and the position of the mistake.

#include <memory>
#include <string>
#include <string_view>

namespace faultline::protocol {

// Redis-style glob match (stringmatchlen): * ? [abc] [^a-z] and \ escapes. Linear in practice:
// one backtrack point, so a hostile pattern cannot blow the stack.
bool glob_match(std::string_view pattern, std::string_view text, bool nocase = false);

// A regular expression (Perl syntax) compiled once. Empty: no pattern, everything matches.
class regex_pattern {
public:
  regex_pattern() = default;
  // Throws param_error naming `param`, with what is wrong and where.
  regex_pattern(const std::string& param, std::string pattern, bool icase);

  bool empty() const { return !regex_; }
  const std::string& text() const { return pattern_; }
  // Somewhere in `text` / all of `text`. A match too complex for Boost's guard counts as none.
  bool search(std::string_view text) const;
  bool full_match(std::string_view text) const;

private:
  struct compiled;
  std::string pattern_;
  std::shared_ptr<const compiled> regex_;
};

}  // namespace faultline::protocol
