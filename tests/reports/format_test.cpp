#include "reports/format.hpp"

#include <catch2/catch.hpp>

using namespace faultline::reports;

TEST_CASE("scores and signed changes", "[reports]") {
  CHECK(format_score(85.714) == "85.7");
  CHECK(format_score(80) == "80");
  CHECK(format_signed_seconds(8) == "+8s");
  CHECK(format_signed_seconds(-0.5) == "-500ms");
  CHECK(format_seconds_within(0.612, 0.02) == "612ms ±10ms");
  CHECK(format_seconds_within(3.3, 0.2) == "3.3s ±100ms");
  CHECK(format_seconds_within(0.0004, 0.0) == "400µs");
  CHECK(format_seconds_within(2.0, std::nullopt) == "2s");
  CHECK(format_seconds_within(std::nullopt, 0.1) == "—");
}

TEST_CASE("escaping for XML and Markdown, and slugs", "[reports]") {
  CHECK(xml_escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(xml_escape("tab\tnl\ncr\r") == "tab\tnl\ncr\r");
  CHECK(xml_escape("esc\x1b[0m") == "esc\xEF\xBF\xBD[0m");
  CHECK(markdown_cell("a|b\nc") == "a\\|b c");
  CHECK(slug("DB slowness #2") == "db-slowness-2");
  CHECK(slug("../etc/passwd") == "etc-passwd");
  CHECK(slug("!!!") == "experiment");
}
