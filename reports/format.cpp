#include "reports/format.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

namespace faultline::reports {

namespace {

std::string trim_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// Three significant digits: 1.23, 12.3, 123.
std::string three_digits(double v) {
  double a = std::fabs(v);
  int decimals = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return trim_zeros(fmt::format("{:.{}f}", v, decimals));
}

}  // namespace

std::string format_number(double value, int decimals) {
  auto s = trim_zeros(fmt::format("{:.{}f}", value, decimals));
  return s == "-0" ? "0" : s;
}

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds)) return "—";
  if (seconds < 0) return "-" + format_seconds(-seconds);
  if (seconds == 0) return "0s";
  // Round to what will be shown first, so 0.9996 becomes "1s" and not "1e+03ms".
  if (seconds < 0.0009995) return three_digits(seconds * 1e6) + "µs";
  if (seconds < 0.9995) return three_digits(seconds * 1e3) + "ms";
  if (seconds < 59.95) return three_digits(seconds) + "s";
  auto whole = static_cast<long long>(std::llround(seconds));
  if (whole < 3600) {
    auto m = whole / 60, s = whole % 60;
    return s == 0 ? fmt::format("{}m", m) : fmt::format("{}m{:02}s", m, s);
  }
  auto h = whole / 3600, m = (whole % 3600) / 60;
  return m == 0 ? fmt::format("{}h", h) : fmt::format("{}h{:02}m", h, m);
}

std::string format_seconds(const std::optional<double>& seconds) {
  return seconds ? format_seconds(*seconds) : std::string("—");
}

std::string format_percent(double fraction) {
  if (!std::isfinite(fraction)) return "—";
  double pct = fraction * 100;
  if (pct == 0) return "0%";
  if (pct == 100) return "100%";
  // At least two decimals for values near the ends (99.95% and 99.9% differ by a tier), and
  // more when rounding would hide that a value is not 0 or 100.
  for (int decimals = 1; decimals <= 6; ++decimals) {
    auto text = fmt::format("{:.{}f}", pct, decimals);
    double shown = std::stod(text);
    bool collapses = (shown == 0 && pct != 0) || (std::fabs(shown) == 100 && std::fabs(pct) != 100);
    bool coarse = decimals < 2 && (std::fabs(pct) < 1 || std::fabs(pct) > 99);
    if (!collapses && !coarse) return trim_zeros(text) + "%";
  }
  return fmt::format("{:g}%", pct);
}

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second)) return "—";
  if (per_second >= 1e6) return three_digits(per_second / 1e6) + "M/s";
  if (per_second >= 1e4) return three_digits(per_second / 1e3) + "k/s";
  if (per_second >= 10) return fmt::format("{:.0f}/s", per_second);
  return format_number(per_second, 1) + "/s";
}

std::string format_count(std::uint64_t n) {
  auto digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_score(double score) { return format_number(score, 1); }

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
