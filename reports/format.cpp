#include "reports/format.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

namespace faultline::reports {

std::string format_score(double score) { return format_number(score, 1); }

std::string format_seconds_within(const std::optional<double>& seconds, const std::optional<double>& resolution) {
  if (!seconds) return format_seconds(seconds);
  if (!resolution || *resolution <= 0) return format_seconds(*seconds);
  return format_seconds(*seconds) + " ±" + format_seconds(*resolution / 2);
}

std::string format_signed_seconds(double seconds) {
  if (seconds == 0) return "±0s";
  return (seconds > 0 ? "+" : "-") + format_seconds(std::fabs(seconds));
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (u < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += "\xEF\xBF\xBD";  // U+FFFD
        else
          out += c;
    }
  }
  return out;
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string slug(std::string_view name) {
  std::string out;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '.' || c == '_') {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  while (!out.empty() && (out.front() == '-' || out.front() == '.')) out.erase(0, 1);
  return out.empty() ? std::string("experiment") : out;
}

}  // namespace faultline::reports
