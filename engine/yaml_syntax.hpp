#pragma once
// What is wrong with an experiment file's text before and after yaml-cpp reads it, in the words
// of the cause and its fix: tabs, indentation, quotes, escapes, binary files, and the size limits
// of core/limits.hpp (file, lists, mappings, values, nesting).

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

namespace faultline::engine {

struct syntax_problem {
  int line = 1;    // 1-based
  int column = 1;  // 1-based
  std::string message;
};

// Checked before yaml-cpp builds a tree: the file's size, and that it is text (UTF-8, no control
// bytes other than tab and line ends).
std::optional<syntax_problem> check_text(const std::string& text);

// yaml-cpp's syntax error explained: a tab in the indentation, a line indented out of step, an
// unclosed quote or bracket, an unknown escape.
syntax_problem explain_syntax_error(const std::string& text, const YAML::ParserException& e);

// The first line where a quoted value opens and is not closed on that line (it runs on into the
// lines below, usually by mistake); nullopt when there is none.
std::optional<syntax_problem> unclosed_quote(const std::string& text);

// Lists, mappings, values and nesting over the limits, at the node that exceeds one (the walk
// stops at the first).
std::optional<syntax_problem> check_shape(const YAML::Node& root);

}  // namespace faultline::engine
