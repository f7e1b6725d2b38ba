#include "core/prometheus.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace faultline;
using namespace faultline::prometheus;
using namespace std::chrono_literals;

TEST_CASE("prometheus text: HELP and TYPE once per family, labels escaped, values as Prometheus reads them", "[core]") {
  exposition out;
  auto& requests = out.add("faultline_requests_total", metric_type::counter, "Requests\nby outcome \\ series");
  requests.add({{"series", "load"}, {"outcome", "ok"}}, 12);
  requests.add({{"series", "a\"b\\c\nd"}, {"outcome", "timeout"}}, 0);
  out.add("faultline_run_score", metric_type::gauge, "Score").add({}, 87.5);
  out.add("faultline_requests_total", metric_type::counter, "ignored: the family exists").add({{"series", "x"}}, 1);
  out.add("faultline_empty", metric_type::gauge, "no samples: not written");
  CHECK(out.text() ==
        "# HELP faultline_requests_total Requests\\nby outcome \\\\ series\n"
        "# TYPE faultline_requests_total counter\n"
        "faultline_requests_total{series=\"load\",outcome=\"ok\"} 12\n"
        "faultline_requests_total{series=\"a\\\"b\\\\c\\nd\",outcome=\"timeout\"} 0\n"
        "faultline_requests_total{series=\"x\"} 1\n"
        "# HELP faultline_run_score Score\n"
        "# TYPE faultline_run_score gauge\n"
        "faultline_run_score 87.5\n");
  CHECK_THROWS_AS(out.add("faultline_run_score", metric_type::counter, "x"), std::logic_error);
  CHECK_THROWS_AS(out.add("9bad", metric_type::gauge, "x"), std::logic_error);
  CHECK_THROWS_AS(requests.add({}, latency_buckets{}), std::logic_error);

  CHECK(format_value(3) == "3");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(1e300) == "1e+300");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(0.0 / 0.0) == "NaN");
  CHECK(is_metric_name("a:b_c1"));
  CHECK_FALSE(is_metric_name("1a"));
  CHECK_FALSE(is_metric_name("a-b"));
  CHECK(is_label_name("state"));
  CHECK_FALSE(is_label_name("__name__"));
  CHECK_FALSE(is_label_name("a:b"));
}

TEST_CASE("prometheus histogram: cumulative buckets in the fixed bounds, +Inf, _sum and _count", "[core]") {
  compact_histogram h;
  h.record(150us);    // <= 0.0002
  h.record(3ms, 2);   // <= 0.005
  h.record(90s);      // only +Inf
  latency_buckets b;
  b.add(h);
  CHECK(b.count == 4);
  CHECK(b.sum_seconds == Approx(90.00615).epsilon(0.001));
  CHECK(b.at_or_below[0] == 0);  // 0.0001
  CHECK(b.at_or_below[1] == 1);  // 0.0002
  CHECK(b.at_or_below[4] == 1);  // 0.002
  CHECK(b.at_or_below[5] == 3);  // 0.005
  CHECK(b.at_or_below.back() == 3);  // 60
  for (std::size_t i = 1; i < b.at_or_below.size(); ++i) CHECK(b.at_or_below[i] >= b.at_or_below[i - 1]);

  latency_buckets twice = b;
  twice.add(b);
  CHECK(twice.count == 8);
  CHECK(twice.at_or_below[5] == 6);

  exposition out;
  out.add("faultline_request_duration_seconds", metric_type::histogram, "Latency").add({{"series", "load"}}, b);
  const auto text = out.text();
  CHECK_THAT(text, Catch::Contains("# TYPE faultline_request_duration_seconds histogram\n"));
  CHECK_THAT(text, Catch::Contains("faultline_request_duration_seconds_bucket{series=\"load\",le=\"0.0002\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("faultline_request_duration_seconds_bucket{series=\"load\",le=\"60\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("faultline_request_duration_seconds_bucket{series=\"load\",le=\"+Inf\"} 4\n"));
  CHECK_THAT(text, Catch::Contains("faultline_request_duration_seconds_count{series=\"load\"} 4\n"));
  CHECK_THAT(text, Catch::Contains("faultline_request_duration_seconds_sum{series=\"load\"} 90.00"));
}

TEST_CASE("prometheus exposition: merging runs appends samples to the families of the same name", "[core]") {
  exposition a, b;
  a.add("faultline_run_score", metric_type::gauge, "Score").add({{"experiment", "one"}}, 90);
  b.add("faultline_run_info", metric_type::gauge, "Info").add({{"experiment", "two"}}, 1);
  b.add("faultline_run_score", metric_type::gauge, "Score").add({{"experiment", "two"}}, 40);
  exposition all;
  all.merge(a);
  all.merge(b);
  CHECK(all.text() ==
        "# HELP faultline_run_score Score\n# TYPE faultline_run_score gauge\n"
        "faultline_run_score{experiment=\"one\"} 90\nfaultline_run_score{experiment=\"two\"} 40\n"
        "# HELP faultline_run_info Info\n# TYPE faultline_run_info gauge\nfaultline_run_info{experiment=\"two\"} 1\n");
}
