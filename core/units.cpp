#include "core/units.hpp"

#include "core/limits.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

namespace faultline {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Reads a leading decimal number ("12", "1.5", ".5", "-3"); advances `s` past it.
std::optional<double> take_number(std::string_view& s) {
  std::size_t n = 0;
  if (n < s.size() && (s[n] == '-' || s[n] == '+')) ++n;
  bool digits = false;
  while (n < s.size() && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.' || s[n] == '_')) {
    digits = digits || (s[n] >= '0' && s[n] <= '9');
    ++n;
  }
  if (!digits) return std::nullopt;
  std::string text;
  for (char c : s.substr(0, n))
    if (c != '_') text += c;
  if (!text.empty() && text.front() == '+') text.erase(0, 1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (end != text.data() + text.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Too many digits for a double: far too large (or, after "0.", far too small) for any unit,
    // which the caller's range check says in its words.
    const auto whole = text.substr(0, text.find('.'));
    value = whole.find_first_of("123456789") != std::string::npos ? std::numeric_limits<double>::infinity() : 0.0;
    if (!whole.empty() && whole.front() == '-') value = -value;
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  s.remove_prefix(n);
  return value;
}

template <std::size_t N>
std::optional<double> factor_of(std::string_view unit,
                                const std::array<std::pair<std::string_view, double>, N>& table) {
  for (const auto& [name, factor] : table)
    if (unit == name) return factor;
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, double>, 11> duration_units{{
    {"ns", 1e-9}, {"us", 1e-6}, {"\xC2\xB5s", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"sec", 1},
    {"m", 60}, {"min", 60}, {"h", 3600}, {"hr", 3600}, {"d", 86400},
}};

constexpr std::array<std::pair<std::string_view, double>, 12> size_units{{
    {"B", 1}, {"KB", 1e3}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
    {"k", 1e3}, {"K", 1e3},
}};

constexpr std::array<std::pair<std::string_view, double>, 12> bit_units{{
    {"bit", 1}, {"kbit", 1e3}, {"Kbit", 1e3}, {"Mbit", 1e6}, {"Gbit", 1e9},
    {"bps", 1}, {"kbps", 1e3}, {"Kbps", 1e3}, {"Mbps", 1e6}, {"Gbps", 1e9},
    {"kibit", 1024.0}, {"Mibit", 1048576.0},
}};

constexpr std::array<std::pair<std::string_view, double>, 9> per_units{{
    {"s", 1}, {"sec", 1}, {"second", 1}, {"ms", 1e3}, {"m", 1.0 / 60}, {"min", 1.0 / 60},
    {"minute", 1.0 / 60}, {"h", 1.0 / 3600}, {"hour", 1.0 / 3600},
}};

std::string quoted(std::string_view text) { return fmt::format("'{}'", text); }

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


// value / unit as a plain decimal, exactly: (1500000001, 1000000000) -> "1.500000001".
std::string exact_quotient(std::int64_t value, std::int64_t unit) {
  std::string out = std::to_string(value / unit);
  if (const auto rest = value % unit; rest != 0) {
    int digits = 0;
    for (auto u = unit; u > 1; u /= 10) ++digits;
    out += trim_zeros(fmt::format(".{:0{}d}", rest, digits));
  }
  return out;
}

// The shortest plain decimal that parses back to the same double (no exponent: the unit
// parsers read plain decimals only).
std::string exact_decimal(double v) {
  auto shortest = fmt::format("{}", v);
  if (shortest.find_first_of("eE") == std::string::npos) return shortest;
  if (std::fabs(v) >= 1) return fmt::format("{:.0f}", v);
  const int decimals = 17 - static_cast<int>(std::floor(std::log10(std::fabs(v))));
  return trim_zeros(fmt::format("{:.{}f}", v, decimals));
}

}  // namespace

std::chrono::nanoseconds parse_duration(std::string_view text) {
  auto s = trim(text);
  const auto bad = [&](std::string_view why) {
    return unit_error(fmt::format("{} is not a duration: {}", quoted(text), why));
  };
  if (s.empty()) throw bad("it is empty; write e.g. 250ms, 1.5s or 2m");
  if (s.front() == '-') throw unit_error(fmt::format("{} is negative; durations cannot be negative", quoted(text)));
  double seconds = 0;
  bool first = true;
  while (!s.empty()) {
    auto number = take_number(s);
    if (!number) throw bad("write a number with a unit, e.g. 250ms, 1.5s or 2m");
    std::size_t n = 0;
    while (n < s.size() && !((s[n] >= '0' && s[n] <= '9') || s[n] == '.')) ++n;
    auto unit = trim(s.substr(0, n));
    s.remove_prefix(n);
    if (unit.empty()) {
      if (first && s.empty() && *number == 0) return std::chrono::nanoseconds(0);
      throw bad(fmt::format("it has no unit; write e.g. {}ms or {}s", *number, *number));
    }
    auto factor = factor_of(unit, duration_units);
    if (!factor) throw bad(fmt::format("unknown unit {} (use ns, us, ms, s, m or h)", quoted(unit)));
    seconds += *number * *factor;
    first = false;
  }
  if (seconds > std::chrono::duration<double>(limits::longest_duration).count())
    throw unit_error(fmt::format("{} is longer than the longest duration faultline accepts ({})", quoted(text),
                                 format_duration(limits::longest_duration)));
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

double parse_rate(std::string_view text) {
  auto s = trim(text);
  const auto bad = [&](std::string_view why) {
    return unit_error(fmt::format("{} is not a rate: {}", quoted(text), why));
  };
  auto number = take_number(s);
  if (!number) throw bad("write a count per time unit, e.g. 200/s or 12k/min");
  if (*number < 0) throw unit_error(fmt::format("{} is negative; rates cannot be negative", quoted(text)));
  s = trim(s);
  double multiplier = 1;
  if (!s.empty() && (s.front() == 'k' || s.front() == 'K')) multiplier = 1e3, s.remove_prefix(1);
  else if (!s.empty() && s.front() == 'M') multiplier = 1e6, s.remove_prefix(1);
  else if (!s.empty() && s.front() == 'G') multiplier = 1e9, s.remove_prefix(1);
  double per_second = 0;
  if (s == "rps") {
    per_second = *number * multiplier;
  } else {
    if (s.empty() || s.front() != '/')
      throw bad(fmt::format("it has no time unit; write e.g. {}/s", format_number(*number)));
    s.remove_prefix(1);
    auto per = factor_of(trim(s), per_units);
    if (!per) throw bad(fmt::format("unknown time unit {} (use /s, /min or /h)", quoted(trim(s))));
    per_second = *number * multiplier * *per;
  }
  if (per_second > limits::highest_rate)
    throw unit_error(fmt::format("{} is more than the highest rate faultline accepts ({})", quoted(text),
                                 format_rate(limits::highest_rate)));
  return per_second;
}

double parse_fraction(std::string_view text) {
  auto s = trim(text);
  auto number = take_number(s);
  s = trim(s);
  if (!number || !(s.empty() || s == "%"))
    throw unit_error(fmt::format("{} is not a fraction: write a percentage (10%) or a number between 0 and 1 (0.1)", quoted(text)));
  if (s == "%") {
    if (*number < 0 || *number > 100)
      throw unit_error(fmt::format("{} is outside 0%..100%", quoted(text)));
    return *number / 100.0;
  }
  if (*number < 0 || *number > 1)
    throw unit_error(fmt::format("{} is outside 0..1; write a fraction (0.1) or a percentage (10%)", quoted(text)));
  return *number;
}

double parse_share(std::string_view text) {
  auto s = trim(text);
  auto number = take_number(s);
  s = trim(s);
  if (!number || !(s.empty() || s == "%"))
    throw unit_error(fmt::format("{} is not a share: write a percentage (150%) or a number (1.5)", quoted(text)));
  if (*number < 0) throw unit_error(fmt::format("{} is negative; a share cannot be negative", quoted(text)));
  return s == "%" ? *number / 100.0 : *number;
}

std::int64_t parse_size(std::string_view text) {
  auto s = trim(text);
  auto number = take_number(s);
  if (!number) throw unit_error(fmt::format("{} is not a size: write e.g. 512, 64KiB or 10MB", quoted(text)));
  if (*number < 0) throw unit_error(fmt::format("{} is negative; sizes cannot be negative", quoted(text)));
  auto unit = trim(s);
  double factor = 1;
  if (!unit.empty()) {
    auto f = factor_of(unit, size_units);
    if (!f) throw unit_error(fmt::format("{} is not a size: unknown unit {} (use B, KB, MB, GB, KiB, MiB or GiB)", quoted(text), quoted(unit)));
    factor = *f;
  }
  double bytes = *number * factor;
  if (bytes > static_cast<double>(limits::largest_size))
    throw unit_error(fmt::format("{} is larger than the largest size faultline accepts ({})", quoted(text),
                                 format_size(limits::largest_size)));
  return static_cast<std::int64_t>(std::llround(bytes));
}

double parse_bandwidth(std::string_view text) {
  auto s = trim(text);
  auto number = take_number(s);
  const auto bad = [&] {
    return unit_error(fmt::format("{} is not a bandwidth: write e.g. 10MB/s, 512KiB/s or 100Mbit/s", quoted(text)));
  };
  if (!number) throw bad();
  if (*number < 0) throw unit_error(fmt::format("{} is negative; bandwidths cannot be negative", quoted(text)));
  auto unit = trim(s);
  std::optional<double> bytes_per_second;
  if (unit.ends_with("/s")) {
    auto base = unit.substr(0, unit.size() - 2);
    if (auto bits = factor_of(base, bit_units)) bytes_per_second = *number * *bits / 8.0;
    else if (auto bytes = factor_of(base, size_units)) bytes_per_second = *number * *bytes;
  } else if (auto bits = factor_of(unit, bit_units)) {
    bytes_per_second = *number * *bits / 8.0;
  }
  if (!bytes_per_second) throw bad();
  if (*bytes_per_second > limits::highest_bandwidth)
    throw unit_error(fmt::format("{} is more than the highest bandwidth faultline accepts ({})", quoted(text),
                                 format_bandwidth(limits::highest_bandwidth)));
  return *bytes_per_second;
}

double parse_number(std::string_view text) {
  auto s = trim(text);
  auto number = take_number(s);
  if (!number || !trim(s).empty()) throw unit_error(fmt::format("{} is not a number", quoted(text)));
  if (!std::isfinite(*number)) throw unit_error(fmt::format("{} is too large", quoted(text)));
  return *number;
}

std::int64_t parse_integer(std::string_view text) {
  auto s = trim(text);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range && end == s.data() + s.size())
    throw unit_error(fmt::format("{} is too large for a whole number", quoted(text)));
  if (ec != std::errc() || end != s.data() + s.size())
    throw unit_error(fmt::format("{} is not a whole number", quoted(text)));
  return value;
}

std::string format_duration(std::chrono::nanoseconds d) {
  auto ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  if (ns < 0) ns = -ns;
  constexpr std::int64_t second = 1'000'000'000;
  if (ns >= 60 * second && ns % second == 0) {
    auto total = ns / second;
    std::string out = sign;
    if (total >= 3600) out += fmt::format("{}h", total / 3600), total %= 3600;
    if (total >= 60) out += fmt::format("{}m", total / 60), total %= 60;
    if (total > 0) out += fmt::format("{}s", total);
    return out;
  }
  if (ns >= second) return sign + exact_quotient(ns, second) + "s";
  if (ns >= 1'000'000) return sign + exact_quotient(ns, 1'000'000) + "ms";
  if (ns >= 1'000) return sign + exact_quotient(ns, 1'000) + "us";
  return fmt::format("{}{}ns", sign, ns);
}

std::string format_rate(double per_second) { return exact_decimal(per_second) + "/s"; }

std::string format_fraction(double fraction) {
  const double percent = fraction * 100.0;
  if (percent / 100.0 == fraction) return exact_decimal(percent) + "%";
  return exact_decimal(fraction);  // a percentage would not parse back to the same value
}

std::string format_size(std::int64_t bytes) {
  constexpr std::array<std::pair<const char*, std::int64_t>, 3> units{{
      {"GiB", 1073741824}, {"MiB", 1048576}, {"KiB", 1024}}};
  for (const auto& [name, factor] : units)
    if (bytes >= factor && bytes % factor == 0) return fmt::format("{}{}", bytes / factor, name);
  constexpr std::array<std::pair<const char*, std::int64_t>, 3> decimal{{
      {"GB", 1'000'000'000}, {"MB", 1'000'000}, {"KB", 1'000}}};
  for (const auto& [name, factor] : decimal)
    if (bytes >= factor && bytes % factor == 0) return fmt::format("{}{}", bytes / factor, name);
  return fmt::format("{}B", bytes);
}

std::string format_bandwidth(double bytes_per_second) {
  // A larger unit only when the value is a whole number of it, so that parsing gives it back.
  for (const auto& [name, factor] : {std::pair{"MB/s", 1e6}, std::pair{"KB/s", 1e3}})
    if (bytes_per_second >= factor && std::fmod(bytes_per_second, factor) == 0) return exact_decimal(bytes_per_second / factor) + name;
  return exact_decimal(bytes_per_second) + "B/s";
}

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

std::string format_measured_rate(double per_second) {
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

}  // namespace faultline
