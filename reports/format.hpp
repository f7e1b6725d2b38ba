#pragma once
// How the reports write text for people: scores, signed changes, and escaping for XML/HTML/SVG
// and Markdown. Durations, percentages, rates and counts come from core/units.hpp.

#include "core/units.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace faultline::reports {

// A score 0..100 with at most one decimal: 87 -> "87", 87.44 -> "87.4".
std::string format_score(double score);

// A measured time and how finely it is known: "569ms ±10ms" (half the resolution; the time
// alone when the resolution is absent or 0). "—" when the time is absent.
std::string format_seconds_within(const std::optional<double>& seconds, const std::optional<double>& resolution);

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
