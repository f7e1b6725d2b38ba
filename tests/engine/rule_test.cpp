#include "engine/rule.hpp"

#include <catch2/catch.hpp>

using namespace faultline::engine;
using namespace std::chrono_literals;

TEST_CASE("rules parse into a typed form", "[engine]") {
  auto r = parse_rule("load.p95 < 200ms");
  CHECK(r.series == "load");
  CHECK(r.stat == statistic::p95);
  CHECK(r.cmp == comparator::less);
  CHECK(r.threshold == Approx(0.2));
  CHECK_FALSE(r.sustained);

  auto e = parse_rule("load.error_rate > 50% for 10s");
  CHECK(e.stat == statistic::error_rate);
  CHECK(e.threshold == Approx(0.5));
  REQUIRE(e.sustained);
  CHECK(*e.sustained == 10s);

  auto ok = parse_rule("health.ok");
  CHECK(ok.series == "health");
  CHECK(ok.stat == statistic::ok);
  CHECK_FALSE(ok.negated);
  CHECK(parse_rule("not health.ok").negated);

  auto v = parse_rule("breaker.value == 0");
  CHECK(v.stat == statistic::value);
  CHECK(v.cmp == comparator::equal);

  CHECK(parse_rule("load.p99.9 <= 1s").stat == statistic::p999);
  CHECK(parse_rule("load.rps >= 100/s").threshold == Approx(100));
  CHECK(parse_rule("load.availability >= 99.9%").threshold == Approx(0.999));

  // Series with dotted names: everything before the statistic is the series.
  auto ws = parse_rule("load.websocket.sessions.p99 < 250ms");
  CHECK(ws.series == "load.websocket.sessions");
  CHECK(ws.stat == statistic::p99);
  auto wm = parse_rule("load.websocket.p99.9 < 1s");
  CHECK(wm.series == "load.websocket");
  CHECK(wm.stat == statistic::p999);
}

TEST_CASE("malformed rules say where and how to fix them", "[engine]") {
  struct bad {
    const char* text;
    std::size_t column;
    const char* message;
  };
  const bad cases[] = {
      {"", 0, "the rule is empty"},
      {"load", 4, "'load' needs a statistic after a dot"},
      {"load.p96 < 200ms", 5, "unknown statistic 'p96'"},
      {"load.p95 200ms", 9, "expected a comparison"},
      {"load.p95 <", 10, "missing a value after '<'"},
      {"load.p95 < 2%", 11, "load.p95 is compared with a duration such as 200ms, not '2%'"},
      {"load.error_rate < 200ms", 18, "compared with a percentage such as 1%"},
      {"load.p95", 8, "'load.p95' needs a comparison"},
      {"load.error_rate > 50% for ever", 26, "not a duration"},
      {"not load.p95 < 1s", 0, "'not' applies only"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    try {
      parse_rule(c.text);
      FAIL("expected a rule_error");
    } catch (const rule_error& e) {
      CHECK(e.column() == c.column);
      CHECK_THAT(e.what(), Catch::Contains(c.message));
    }
  }
}

TEST_CASE("comparisons", "[engine]") {
  CHECK(compare(1, comparator::less, 2));
  CHECK_FALSE(compare(2, comparator::less, 2));
  CHECK(compare(2, comparator::less_equal, 2));
  CHECK(compare(0.1 + 0.2, comparator::equal, 0.3));
  CHECK(compare(1, comparator::not_equal, 0));
  CHECK(format_threshold(parse_rule("load.p95 < 200ms")) == "200ms");
  CHECK(format_threshold(parse_rule("load.error_rate < 1%")) == "1%");
}

TEST_CASE("a resource probe's quantities read as rules in their own units", "[engine]") {
  auto rss = parse_rule("shop.rss < 500MB");
  CHECK(rss.series == "shop.rss");
  CHECK(rss.stat == statistic::value);
  CHECK(rss.threshold == Approx(500e6));
  CHECK(unit_of(rss) == stat_unit::bytes);
  CHECK(format_threshold(rss) == "500MB");
  auto cpu = parse_rule("shop.cpu < 150%");
  CHECK(cpu.series == "shop.cpu");
  CHECK(cpu.threshold == Approx(1.5));
  CHECK(format_threshold(cpu) == "150%");
  CHECK(parse_rule("app.memory <= 1GiB").threshold == Approx(1073741824));
  CHECK(parse_rule("shop.fds < 1000").threshold == Approx(1000));
  CHECK(parse_rule("shop.cpu_seconds < 1m").threshold == Approx(60));
  CHECK(parse_rule("app.oom_kills == 0 for 5s").sustained == 5s);
  CHECK(format_measured(stat_unit::bytes, 209715200) == "200MiB");
  CHECK(format_measured(stat_unit::share, 1.234) == "123.4%");
  try {
    parse_rule("shop.rss < 5s");
    FAIL("expected a rule_error");
  } catch (const rule_error& e) {
    CHECK(e.column() == 11);
    CHECK_THAT(e.what(), Catch::Contains("shop.rss is compared with a size such as 500MB, not '5s'"));
  }
}

TEST_CASE("a rule on one named request of the load", "[engine]") {
  auto r = parse_rule("load.checkout.p95 < 300ms");
  CHECK(r.series == "load.checkout");
  CHECK(r.stat == statistic::p95);
  CHECK(parse_rule("load.checkout.p99.9 < 1s").stat == statistic::p999);
  CHECK(parse_rule("load.checkout.error_rate < 1%").threshold == Approx(0.01));
  try {
    parse_rule("load.checkout.p96 < 1s");
    FAIL("accepted");
  } catch (const rule_error& e) {
    CHECK(e.column() == 14);
    CHECK_THAT(e.what(), Catch::Contains("unknown statistic 'p96'"));
  }
}
