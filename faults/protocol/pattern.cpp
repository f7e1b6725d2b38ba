#include "faults/protocol/pattern.hpp"

#include "core/params.hpp"

#include <boost/regex.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <utility>

namespace faultline::protocol {

struct regex_pattern::compiled {
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

regex_pattern::regex_pattern(const std::string& param, std::string pattern, bool icase) : pattern_(std::move(pattern)) {
  if (pattern_.empty()) return;
  try {
    auto c = std::make_shared<compiled>();
    auto flags = boost::regex::perl | boost::regex::optimize;
    if (icase) flags |= boost::regex::icase;
    c->regex.assign(pattern_, flags);
    regex_ = std::move(c);
  } catch (const boost::regex_error& e) {
    auto pos = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, e.position()));
    throw param_error(param, fmt::format("'{}' is not a valid regular expression: {} at position {} ('{}' <-- here); "
                                         "escape special characters with \\",
                                         pattern_, regex_problem(e), pos, pattern_.substr(0, std::min(pos + 1, pattern_.size()))));
  }
}

bool regex_pattern::search(std::string_view text) const {
  if (!regex_) return true;
  try {
    return boost::regex_search(text.begin(), text.end(), regex_->regex);
  } catch (const std::runtime_error&) {
    return false;  // the match became too complex for this text (Boost's guard against runaway backtracking)
  }
}

bool regex_pattern::full_match(std::string_view text) const {
  if (!regex_) return true;
  try {
    return boost::regex_match(text.begin(), text.end(), regex_->regex);
  } catch (const std::runtime_error&) {
    return false;
  }
}

bool glob_match(std::string_view p, std::string_view s, bool nocase) {
  auto lower = [nocase](char c) { return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c; };
  // Iterative with one backtrack point for '*', so a hostile pattern cannot blow the stack.
  std::size_t pi = 0, si = 0;
  std::optional<std::pair<std::size_t, std::size_t>> star;
  while (si < s.size()) {
    bool advanced = false;
    if (pi < p.size()) {
      char c = p[pi];
      if (c == '*') {
        while (pi < p.size() && p[pi] == '*') ++pi;
        if (pi == p.size()) return true;
        star = {pi, si};
        continue;
      }
      if (c == '?') {
        ++pi;
        ++si;
        advanced = true;
      } else if (c == '[') {
        std::size_t j = pi + 1;
        bool negate = j < p.size() && p[j] == '^';
        if (negate) ++j;
        bool hit = false;
        bool closed = false;
        while (j < p.size()) {
          if (p[j] == '\\' && j + 1 < p.size()) {
            if (lower(p[j + 1]) == lower(s[si])) hit = true;
            j += 2;
          } else if (p[j] == ']') {
            closed = true;
            break;
          } else if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
            char a = lower(p[j]), b = lower(p[j + 2]);
            if (a > b) std::swap(a, b);
            if (lower(s[si]) >= a && lower(s[si]) <= b) hit = true;
            j += 3;
          } else {
            if (lower(p[j]) == lower(s[si])) hit = true;
            ++j;
          }
        }
        if (negate) hit = !hit;
        if (hit) {
          pi = closed ? j + 1 : j;
          ++si;
          advanced = true;
        }
      } else {
        if (c == '\\' && pi + 1 < p.size()) c = p[++pi];
        if (lower(c) == lower(s[si])) {
          ++pi;
          ++si;
          advanced = true;
        }
      }
    }
    if (advanced) continue;
    if (!star) return false;
    pi = star->first;
    si = ++star->second;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}


}  // namespace faultline::protocol
