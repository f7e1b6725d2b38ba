#include "engine/yaml_syntax.hpp"

#include "core/limits.hpp"
#include "core/units.hpp"

#include <fmt/format.h>

#include <string_view>

namespace faultline::engine {
namespace {

std::vector<std::string_view> lines_of(const std::string& text) {
  std::vector<std::string_view> out;
  std::string_view rest(text);
  while (!rest.empty()) {
    auto end = rest.find('\n');
    out.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return out;
}

// The length of the UTF-8 sequence starting at s[i], or 0 when it is not valid UTF-8.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  return n;
}

// Where a quoted value opens on `line` ("key: 'x" or "- 'x") without closing there: the column
// of the quote.
std::optional<std::size_t> open_quote(std::string_view line) {
  constexpr auto none = std::string_view::npos;
  auto at = line.find_first_not_of(' ');
  if (at == none || line[at] == '#') return std::nullopt;
  if (line.compare(at, 2, "- ") == 0) at = line.find_first_not_of(' ', at + 2);
  if (at != none && line[at] != '"' && line[at] != '\'') {
    auto colon = line.find(": ", at);
    at = colon == none ? none : line.find_first_not_of(' ', colon + 2);
  }
  if (at == none || (line[at] != '"' && line[at] != '\'')) return std::nullopt;
  const char quote = line[at];
  for (auto i = at + 1; i < line.size(); ++i) {
    if (quote == '"' && line[i] == '\\') {
      ++i;
      continue;
    }
    if (line[i] != quote) continue;
    if (quote == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {  // '' inside single quotes
      ++i;
      continue;
    }
    return std::nullopt;
  }
  return at;
}

syntax_problem unclosed_at(const std::vector<std::string_view>& lines, std::size_t line, std::size_t column) {
  return {static_cast<int>(line) + 1, static_cast<int>(column) + 1,
          fmt::format("the quoted value that starts here is not closed on line {}, so it runs on into the lines below; add the "
                      "closing {}",
                      line + 1, lines[line][column])};
}

struct shape_walk {
  std::size_t nodes = 0;
  std::optional<syntax_problem> problem;

  void fail(const YAML::Node& node, std::string message) {
    auto m = node.Mark();
    problem = syntax_problem{m.is_null() ? 1 : m.line + 1, m.is_null() ? 1 : m.column + 1, std::move(message)};
  }

  void visit(const YAML::Node& node, std::size_t depth) {
    if (problem) return;
    if (++nodes > limits::yaml_nodes)
      return fail(node, fmt::format("the file holds more than {} values; faultline reads at most that many (split it into a suite)",
                                    limits::yaml_nodes));
    if (!node.IsSequence() && !node.IsMap()) return;
    if (depth > limits::nesting_depth)
      return fail(node, fmt::format("lists and mappings are nested more than {} deep here; faultline reads at most that depth",
                                    limits::nesting_depth));
    if (node.IsSequence() && node.size() > limits::list_entries)
      return fail(node, fmt::format("this list has {} entries; faultline accepts at most {} in one list", node.size(), limits::list_entries));
    if (node.IsMap() && node.size() > limits::mapping_entries)
      return fail(node, fmt::format("this mapping has {} keys; faultline accepts at most {} in one mapping", node.size(),
                                    limits::mapping_entries));
    for (auto it = node.begin(); it != node.end() && !problem; ++it) {
      if (node.IsMap()) {
        visit(it->first, depth + 1);
        visit(it->second, depth + 1);
      } else {
        visit(*it, depth + 1);
      }
    }
  }
};

}  // namespace

std::optional<syntax_problem> check_text(const std::string& text) {
  if (text.size() > limits::experiment_file_bytes)
    return syntax_problem{1, 1, fmt::format("the file is {} bytes; faultline reads experiment files of at most {} bytes ({}); split it "
                                            "into several experiments and a suite",
                                            text.size(), limits::experiment_file_bytes,
                                            format_size(static_cast<std::int64_t>(limits::experiment_file_bytes)))};
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    auto n = utf8_length(text, i);
    if (n == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
      return syntax_problem{line, column,
                            fmt::format("byte 0x{:02x} is not text: this is not a YAML file (or not UTF-8); an experiment is a "
                                        "YAML text file",
                                        c)};
    if (c == '\n') ++line, column = 1;
    else ++column;
    i += n;
  }
  return std::nullopt;
}

syntax_problem explain_syntax_error(const std::string& text, const YAML::ParserException& e) {
  const auto lines = lines_of(text);
  const int at = e.mark.line + 1;
  // A tab in the indentation, at or before the error: yaml-cpp says "illegal map value" or worse.
  for (int i = 0; i < std::min<int>(at + 1, static_cast<int>(lines.size())); ++i) {
    auto indent = lines[i].find_first_not_of(" \t");
    auto tab = lines[i].find('\t');
    if (tab != std::string_view::npos && tab < indent)
      return {i + 1, static_cast<int>(tab) + 1, fmt::format("line {} is indented with a tab; YAML needs spaces (replace the tab with spaces)", i + 1)};
  }
  // A quote opened before the error and not closed on its line swallowed what followed.
  for (int i = 0; i + 1 < std::min<int>(at, static_cast<int>(lines.size())); ++i)
    if (auto q = open_quote(lines[i])) return unclosed_at(lines, static_cast<std::size_t>(i), *q);
  const std::string& m = e.msg;
  const int column = e.mark.column + 1;
  if (m == YAML::ErrorMsg::END_OF_MAP_FLOW || m == YAML::ErrorMsg::END_OF_SEQ_FLOW)
    return {at, column, fmt::format("a {} opened before this point is not closed; add the closing {}",
                                    m == YAML::ErrorMsg::END_OF_MAP_FLOW ? "'{'" : "'['", m == YAML::ErrorMsg::END_OF_MAP_FLOW ? "'}'" : "']'")};
  if (m == YAML::ErrorMsg::END_OF_MAP || m == YAML::ErrorMsg::END_OF_SEQ || m == YAML::ErrorMsg::BLOCK_ENTRY)
    return {at, column,
            fmt::format("line {} is indented out of step with the lines above it: indent a key or '- ' entry exactly as far as the "
                        "others of its list or mapping (spaces only)",
                        at)};
  if (m.rfind(YAML::ErrorMsg::INVALID_ESCAPE, 0) == 0)
    return {at, column,
            fmt::format("'\\{}' is not an escape YAML knows inside double quotes; write '\\\\' for a backslash, or use single quotes",
                        m.substr(std::string_view(YAML::ErrorMsg::INVALID_ESCAPE).size()))};
  if (m == YAML::ErrorMsg::EOF_IN_SCALAR || m == YAML::ErrorMsg::DOC_IN_SCALAR) {
    if (auto q = unclosed_quote(text)) return *q;
    return {at, column, "a quoted value is never closed; add the closing quote"};
  }
  if (m == YAML::ErrorMsg::MAP_VALUE)
    return {at, column,
            fmt::format("line {} has a ':' followed by a space where no key can start; quote the value if it contains ': ' "
                        "(e.g. 'a: b'), or indent the key under its parent",
                        at)};
  return {at, column, fmt::format("YAML syntax error: {}; check the indentation (spaces only) and the quotes on this line and the one above", m)};
}

std::optional<syntax_problem> unclosed_quote(const std::string& text) {
  const auto lines = lines_of(text);
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (auto q = open_quote(lines[i])) return unclosed_at(lines, i, *q);
  return std::nullopt;
}

std::optional<syntax_problem> check_shape(const YAML::Node& root) {
  shape_walk walk;
  walk.visit(root, 0);
  return walk.problem;
}

}  // namespace faultline::engine
