#include "probes/prometheus_text.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace faultline::probes {
namespace {

bool name_char(char c, bool first) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || c == ':' || (!first && std::isdigit(u));
}

// Reads `name{labels}` from `s` at `pos`; returns false when the text is not a series.
bool read_series(std::string_view s, std::size_t& pos, std::string& name, std::map<std::string, std::string>& labels,
                 std::string* error) {
  const auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  const auto start = pos;
  while (pos < s.size() && name_char(s[pos], pos == start)) ++pos;
  if (pos == start) return fail("it must start with a metric name");
  name = std::string(s.substr(start, pos - start));
  if (pos >= s.size() || s[pos] != '{') return true;
  ++pos;
  for (;;) {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == ',')) ++pos;
    if (pos < s.size() && s[pos] == '}') {
      ++pos;
      return true;
    }
    const auto lstart = pos;
    while (pos < s.size() && name_char(s[pos], pos == lstart)) ++pos;
    if (pos == lstart) return fail("expected a label name");
    std::string label(s.substr(lstart, pos - lstart));
    while (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos >= s.size() || s[pos] != '=') return fail("expected '=' after label '" + label + "'");
    ++pos;
    while (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos >= s.size() || s[pos] != '"') return fail("the value of label '" + label + "' must be in double quotes");
    ++pos;
    std::string value;
    for (;; ++pos) {
      if (pos >= s.size()) return fail("unterminated value of label '" + label + "'");
      if (s[pos] == '"') break;
      if (s[pos] == '\\' && pos + 1 < s.size()) {
        ++pos;
        value += s[pos] == 'n' ? '\n' : s[pos];
      } else {
        value += s[pos];
      }
    }
    ++pos;
    labels[label] = value;
  }
}

std::optional<double> parse_value(std::string_view text) {
  const std::string v(text);
  if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (v == "+Inf" || v == "Inf") return std::numeric_limits<double>::infinity();
  if (v == "-Inf") return -std::numeric_limits<double>::infinity();
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0') return std::nullopt;
  return d;
}

}  // namespace

std::string series_selector::to_string() const {
  std::string out = name;
  if (labels.empty()) return out;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + v + "\"";
  }
  return out + "}";
}

series_selector parse_series_selector(std::string_view text) {
  series_selector sel;
  std::size_t pos = 0;
  while (pos < text.size() && text[pos] == ' ') ++pos;
  std::string error;
  if (!read_series(text, pos, sel.name, sel.labels, &error))
    throw std::invalid_argument("'" + std::string(text) + "' is not a series: " + error +
                                " (write name or name{label=\"value\"}, e.g. shop_breaker_state{dependency=\"postgres\"})");
  while (pos < text.size() && text[pos] == ' ') ++pos;
  if (pos != text.size())
    throw std::invalid_argument("'" + std::string(text) + "' has extra text after the series (write name{label=\"value\"})");
  return sel;
}

series_match find_series(std::string_view exposition, const series_selector& selector) {
  series_match out;
  std::size_t line_start = 0;
  while (line_start < exposition.size()) {
    auto line_end = exposition.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = exposition.size();
    auto line = exposition.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t pos = 0;
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    if (pos >= line.size() || line[pos] == '#') continue;
    if (!line.substr(pos).starts_with(selector.name)) continue;  // cheap filter
    std::string name;
    std::map<std::string, std::string> labels;
    if (!read_series(line, pos, name, labels, nullptr) || name != selector.name) continue;
    bool match = true;
    for (const auto& [k, v] : selector.labels) {
      auto it = labels.find(k);
      if (it == labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    auto value_end = line.find_first_of(" \t", pos);
    auto value = parse_value(line.substr(pos, value_end == std::string_view::npos ? std::string_view::npos : value_end - pos));
    if (!value) continue;
    if (out.matches++ == 0) out.value = value;
  }
  return out;
}

}  // namespace faultline::probes
