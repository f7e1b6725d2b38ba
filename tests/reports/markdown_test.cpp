#include "reports/format.hpp"
#include "reports/margins.hpp"
#include "reports/markdown.hpp"
#include "reports/run_summary.hpp"
#include "tests/reports/synthetic_journal.hpp"

#include <catch2/catch.hpp>

using namespace faultline;

TEST_CASE("Markdown: verdict, score, tier, expectations and key numbers as the journal has them", "[reports]") {
  auto j = test::synthetic_journal();
  auto md = reports::render_markdown(j);
  INFO(md);
  CHECK_THAT(md, Catch::StartsWith("## ❌ checkout-db-slowness: Failed\n"));
  CHECK_THAT(md, Catch::Contains("**Score 77.8/100** · **SLA tier bronze** · 8 of 9 expectations met · ran 57s"));
  CHECK_THAT(md, Catch::Contains("> 1 of 9 expectations missed: sla (measured " + j.analysis.expectations[0].measured + ", target >= gold)"));
  CHECK_THAT(md, Catch::Contains("| ❌ | `sla` SLA tier gold during the fault (availability >= 99.9%, p95 <= 200ms) | >= gold | " +
                                 j.analysis.expectations[0].measured + " | — | 33% |"));
  CHECK_THAT(md, Catch::Contains("| ✅ | `mttr` time to recover: last revert to the start of a stable run of steady windows | <= 10s | 4s | — | 100% |"));
  CHECK_THAT(md, Catch::Contains("| MTTD | MTTR | Breaker opened | Breaker closed | Breaker flaps |"));
  // Every time with how finely it is known; sub-second ones in milliseconds.
  CHECK_THAT(md, Catch::Contains("| 1s ±10ms | 4s ±100ms | 612ms ±10ms after fault start | 3s ±100ms after last revert | 1 |"));
  CHECK_THAT(md, Catch::Contains("- `pg-latency` fault latency on postgres (t=15s–45s; jitter 100ms, latency 800ms): ✅ applied and observed"));
  CHECK_THAT(md, Catch::Contains("- `warm-cache` action command (t=38s–39.4s;"));

  // Worst p99 and error rate per phase, in the order the run went through them.
  auto summary = reports::summarize(j);
  REQUIRE(summary.phases.size() == 5);
  CHECK(summary.phases[2].phase == "fault");
  std::string previous;
  for (const auto& p : summary.phases) {
    double worst_p99 = 0, worst_errors = 0;
    for (const auto& s : j.analysis.phase_stats)
      if (s.phase == p.phase) {
        worst_p99 = std::max(worst_p99, *s.p99);
        worst_errors = std::max(worst_errors, s.error_rate);
      }
    CHECK(*p.worst_p99 == worst_p99);
    CHECK(p.worst_error_rate == worst_errors);
    auto row = "| " + p.phase + " | " + format_seconds(worst_p99) + " (" + p.worst_p99_series + ") | " +
               format_percent(worst_errors) + " (" + p.worst_error_rate_series + ") |";
    CHECK_THAT(md, Catch::Contains(row));
    if (!previous.empty()) CHECK(md.find(previous) < md.find(row));
    previous = row;
  }
}

TEST_CASE("Markdown: a run that never recovered and had no breaker", "[reports]") {
  auto j = test::synthetic_journal();
  j.analysis.mttr.reset();
  j.analysis.recovered = false;
  j.analysis.breaker.reset();
  j.verdict = {"aborted", 3, "abort_when: load.error_rate > 50% for 10s"};
  j.analysis.expectations[0].description = "a | pipe\nand a newline";
  auto md = reports::render_markdown(j);
  CHECK_THAT(md, Catch::StartsWith("## ⚠️ checkout-db-slowness: Aborted\n"));
  CHECK_THAT(md, Catch::Contains("| 1s ±10ms | not recovered | — | — | — |"));
  CHECK_THAT(md, Catch::Contains("a \\| pipe and a newline"));
}

TEST_CASE("Markdown: an HTTP fault's requests by route, busiest first", "[reports]") {
  auto j = test::synthetic_journal();
  j.faults.push_back(test::http_fault_with_routes());
  const auto md = reports::render_markdown(j);
  INFO(md);
  CHECK_THAT(md, Catch::Contains("Requests by route, `rate-limit` (http_rate_limit on payments):\n\n"
                                 "| Route | Seen | Matched | Acted on |\n|---|---:|---:|---:|\n"
                                 "| `POST /payments` | 2,990 | 2,990 | 2,960 |\n"
                                 "| `GET /health` | 20 | 0 | 0 |\n"));
  CHECK(md.find("Requests by route") == md.rfind("Requests by route"));  // only the HTTP fault has one
}

TEST_CASE("Markdown: each threshold expectation's margin with its interval, and a borderline tier", "[reports]") {
  auto j = test::synthetic_journal();
  for (auto& e : j.analysis.expectations)
    if (e.name == "mttr")
      e.margins = {reports::make_margin("mttr", "seconds", 4, 10, reports::bound_kind::at_most, reports::stats::interval{3.9, 4.1}, "resolution")};
  j.analysis.sla_tier_range = "none..bronze";
  auto md = reports::render_markdown(j);
  INFO(md);
  CHECK_THAT(md, Catch::Contains("| <= 10s | 4s | mttr +6s [+5.9s, +6.1s] | 100% |"));
  CHECK_THAT(md, Catch::Contains("**SLA tier bronze** (borderline: none..bronze)"));
}
