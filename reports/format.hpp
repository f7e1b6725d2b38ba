#pragma once
// How the reports write numbers and text for people: durations, percentages, rates, and escaping
// for XML/HTML/SVG and Markdown. One place, so every report shows the same value the same way.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::reports {

// 0.000042 -> "42µs", 0.0123 -> "12.3ms", 0.8 -> "800ms", 6 -> "6s", 12.34 -> "12.3s",
// 95 -> "1m35s", 3720 -> "1h02m". Three significant digits below a minute.
std::string format_seconds(double seconds);
// "—" when absent.
std::string format_seconds(const std::optional<double>& seconds);

// A fraction as a percentage with as few decimals as show it faithfully: 0.032 -> "3.2%",
// 0.9995 -> "99.95%", 0.99999 -> "99.999%", never rounding a value that is not 0 or 1 to "0%" or "100%".
std::string format_percent(double fraction);

// Requests per second: 198.4 -> "198/s", 1520 -> "1.52k/s", 0.5 -> "0.5/s".
std::string format_rate(double per_second);

// A count with thousands separators: 18734112 -> "18,734,112".
std::string format_count(std::uint64_t n);

// A score 0..100 with at most one decimal: 87 -> "87", 87.44 -> "87.4".
std::string format_score(double score);

// A number with at most `decimals` decimals and no trailing zeros: 2.50 -> "2.5".
std::string format_number(double value, int decimals = 3);

// "+25%", "-10%", "+1.5s": signed change for the diff.
std::string format_signed_seconds(double seconds);

// Text made safe for XML/HTML element content and attribute values (both quote kinds escaped).
// Characters XML 1.0 forbids (control characters other than tab, newline, carriage return) are
// replaced by U+FFFD, so a runbook's coloured output cannot make the document invalid.
std::string xml_escape(std::string_view text);

// Text made safe for one Markdown table cell: pipes escaped, line breaks turned into spaces.
std::string markdown_cell(std::string_view text);

// A file-name-safe slug of an experiment name: "DB slowness #2" -> "db-slowness-2".
std::string slug(std::string_view name);

}  // namespace faultline::reports
