#include "reports/format.hpp"

#include <catch2/catch.hpp>

using namespace faultline::reports;

TEST_CASE("durations are written as people read them", "[reports]") {
  struct row {
    double seconds;
    std::string text;
  };
  for (const auto& [s, text] : std::vector<row>{{0, "0s"}, {0.000042, "42µs"}, {0.0123, "12.3ms"}, {0.8, "800ms"}, {0.9996, "1s"},
                                                {1, "1s"}, {1.5, "1.5s"}, {12.345, "12.3s"}, {59.9, "59.9s"}, {60, "1m"}, {95, "1m35s"},
                                                {3720, "1h02m"}, {7200, "2h"}, {-2, "-2s"}}) {
    INFO(s);
    CHECK(format_seconds(s) == text);
  }
  CHECK(format_seconds(std::optional<double>{}) == "—");
}

TEST_CASE("percentages never round a partial value to 0% or 100%", "[reports]") {
  struct row {
    double fraction;
    std::string text;
  };
  for (const auto& [f, text] : std::vector<row>{{0, "0%"}, {1, "100%"}, {0.032, "3.2%"}, {0.5, "50%"}, {0.9995, "99.95%"}, {0.999, "99.9%"},
                                                {0.99999, "99.999%"}, {0.00001, "0.001%"}, {0.0083, "0.83%"}, {0.25, "25%"}}) {
    INFO(f);
    CHECK(format_percent(f) == text);
  }
}

TEST_CASE("rates, scores and numbers", "[reports]") {
  CHECK(format_rate(198.4) == "198/s");
  CHECK(format_rate(15200) == "15.2k/s");
  CHECK(format_rate(0.5) == "0.5/s");
  CHECK(format_score(85.714) == "85.7");
  CHECK(format_score(80) == "80");
  CHECK(format_number(2.50) == "2.5");
  CHECK(format_signed_seconds(8) == "+8s");
  CHECK(format_signed_seconds(-0.5) == "-500ms");
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
