#include "core/histogram.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace faultline;
using std::chrono::nanoseconds;

namespace {

// The exact percentile of a sorted array, with the histogram's definition of rank.
std::int64_t exact_percentile(const std::vector<std::int64_t>& sorted, double percent) {
  auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// Checks every reported figure against the sorted values: percentiles never under-report and are
// within 3 significant digits (or 1 us, the resolution); count, min, max and mean are exact.
void check_against_sorted(std::vector<std::int64_t> values) {
  histogram h;
  for (auto v : values) h.record(nanoseconds(v));
  std::sort(values.begin(), values.end());
  REQUIRE(h.count() == values.size());
  CHECK(h.min().count() == values.front());
  CHECK(h.max().count() == values.back());
  long double sum = 0;
  for (auto v : values) sum += static_cast<long double>(v);
  CHECK(std::abs(static_cast<double>(h.mean().count()) - static_cast<double>(sum / values.size())) <= 1.0);
  for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0}) {
    const auto exact = exact_percentile(values, p);
    const auto got = h.percentile(p).count();
    const auto capped = std::min<std::int64_t>(exact, 3'600'000'000'000);
    const double tolerance = std::max(1000.0, static_cast<double>(capped) / 1000.0);
    INFO("p" << p << " exact " << exact << " ns, histogram " << got << " ns");
    if (exact <= 3'600'000'000'000) CHECK(got >= exact);
    CHECK(std::abs(static_cast<double>(got - exact)) <= tolerance);
  }
  const auto c = h.compact();
  CHECK(c.count() == h.count());
  for (double p : {50.0, 99.0, 99.9}) CHECK(c.percentile(p) == h.percentile(p));
}

}  // namespace

TEST_CASE("layout covers 1 us to 1 h at better than 3 significant digits", "[core]") {
  namespace l = histogram_layout;
  CHECK(l::index_of(l::highest_us) < l::index_count);
  for (std::int64_t v : {0LL, 1LL, 1023LL, 1024LL, 2047LL, 2048LL, 4095LL, 4096LL, 1'000'000LL, 3'599'999'999LL, 3'600'000'000LL}) {
    const auto i = l::index_of(v);
    INFO("value " << v);
    CHECK(l::lowest_of(i) <= v);
    CHECK(l::highest_of(i) >= v);
    CHECK(static_cast<double>(l::width_of(i)) <= std::max(1.0, static_cast<double>(v) / 1000.0));
  }
  // Slots are contiguous and ordered.
  for (std::size_t i = 1; i < l::index_of(l::highest_us); ++i) CHECK(l::lowest_of(i) == l::highest_of(i - 1) + 1);
}

TEST_CASE("percentiles match sorted arrays: random distributions", "[core]") {
  std::mt19937_64 rng(42);
  SECTION("uniform 1 us .. 10 s") {
    std::uniform_int_distribution<std::int64_t> d(1000, 10'000'000'000);
    std::vector<std::int64_t> v(100'000);
    for (auto& x : v) x = d(rng);
    check_against_sorted(v);
  }
  SECTION("log-uniform 1 us .. 1 h") {
    std::uniform_real_distribution<double> d(std::log(1000.0), std::log(3.6e12));
    std::vector<std::int64_t> v(100'000);
    for (auto& x : v) x = static_cast<std::int64_t>(std::exp(d(rng)));
    check_against_sorted(v);
  }
  SECTION("exponential, mean 5 ms") {
    std::exponential_distribution<double> d(1.0 / 5e6);
    std::vector<std::int64_t> v(50'000);
    for (auto& x : v) x = static_cast<std::int64_t>(d(rng));
    check_against_sorted(v);
  }
}

TEST_CASE("percentiles match sorted arrays: adversarial distributions", "[core]") {
  SECTION("a single sample") { check_against_sorted({123'456'789}); }
  SECTION("all equal") { check_against_sorted(std::vector<std::int64_t>(1000, 250'000'000)); }
  SECTION("bimodal at the extremes: 1 us and 1 h") {
    std::vector<std::int64_t> v(999, 1000);
    v.push_back(3'600'000'000'000);
    check_against_sorted(v);
  }
  SECTION("values on and around every power of two") {
    std::vector<std::int64_t> v;
    for (int k = 10; k < 42; ++k)
      for (std::int64_t d : {-1000, -1, 0, 1, 1000}) v.push_back((std::int64_t{1} << k) + d);
    check_against_sorted(v);
  }
  SECTION("a stall: 99 % fast, 1 % at 1 s") {
    std::vector<std::int64_t> v(9900, 200'000);
    for (int i = 0; i < 100; ++i) v.push_back(1'000'000'000 - i * 1'000'000);
    check_against_sorted(v);
  }
  SECTION("sub-microsecond values") { check_against_sorted({0, 1, 10, 999, 1000, 1001, 1999}); }
}

TEST_CASE("values beyond 1 h are clamped into the top slot but min, max and mean stay exact", "[core]") {
  histogram h;
  h.record(std::chrono::hours(2));
  h.record(std::chrono::hours(3));
  CHECK(h.max() == std::chrono::hours(3));
  CHECK(h.min() == std::chrono::hours(2));
  CHECK(h.mean() == std::chrono::minutes(150));
  CHECK(h.percentile(50) == std::chrono::hours(2));  // clamped to the exact min
  CHECK(h.count_at_or_above(std::chrono::minutes(59)) == 2);
}

TEST_CASE("an empty histogram reports zeros", "[core]") {
  histogram h;
  CHECK(h.empty());
  CHECK(h.percentile(99) == nanoseconds(0));
  CHECK(h.min() == nanoseconds(0));
  CHECK(h.max() == nanoseconds(0));
  CHECK(h.mean() == nanoseconds(0));
  CHECK(compact_histogram{}.percentile(50) == nanoseconds(0));
}

TEST_CASE("merge equals recording everything into one", "[core]") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(std::log(2e6), 1.5);
  histogram all;
  std::vector<histogram> parts(5);
  std::vector<compact_histogram> compacts(5);
  for (int i = 0; i < 50'000; ++i) {
    const nanoseconds v(static_cast<std::int64_t>(d(rng)));
    all.record(v);
    parts[static_cast<std::size_t>(i) % 5].record(v);
    compacts[static_cast<std::size_t>(i * 7) % 5].record(v);
  }
  histogram merged;
  for (const auto& p : parts) merged.merge(p);
  CHECK(merged == all);

  compact_histogram from_compacts;
  for (const auto& c : compacts) from_compacts.merge(c);
  CHECK(from_compacts == all.compact());

  compact_histogram mixed = parts[0].compact();
  for (std::size_t i = 1; i < parts.size(); ++i) mixed.merge(parts[i]);
  CHECK(mixed == all.compact());

  histogram dense_from_compact;
  dense_from_compact.merge(from_compacts);
  CHECK(dense_from_compact == all);
}

TEST_CASE("count_at_or_above counts the slow samples", "[core]") {
  histogram h;
  for (int i = 0; i < 900; ++i) h.record(std::chrono::milliseconds(5));
  for (int i = 0; i < 100; ++i) h.record(std::chrono::milliseconds(600 + i));
  CHECK(h.count_at_or_above(std::chrono::milliseconds(500)) == 100);
  CHECK(h.count_at_or_above(std::chrono::milliseconds(1)) == 1000);
  CHECK(h.count_at_or_above(std::chrono::seconds(1)) == 0);
}

TEST_CASE("JSON round trip is lossless", "[core]") {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> d(1.0 / 3e7);
  histogram h;
  for (int i = 0; i < 10'000; ++i) h.record(nanoseconds(static_cast<std::int64_t>(d(rng))));
  const auto j = to_json(h);
  const auto text = j.dump();
  const auto back = histogram_from_json(nlohmann::json::parse(text));
  CHECK(back == h);
  CHECK(compact_histogram::from_json(j) == h.compact());
  CHECK(to_json(back) == j);
  CHECK(compact_histogram::from_json(compact_histogram{}.to_json()).empty());
}

TEST_CASE("JSON that is not a histogram is rejected with a reason", "[core]") {
  using nlohmann::json;
  auto error_of = [](const json& j) {
    try {
      (void)compact_histogram::from_json(j);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const json good = {{"count", 2}, {"min_ns", 1000}, {"max_ns", 2000}, {"sum_ns", 3000}, {"buckets", {{1, 1}, {2, 1}}}};
  CHECK(error_of(good) == "no error");
  auto bad = good;
  bad["count"] = 3;
  CHECK(error_of(bad) == "histogram: count 3 differs from the buckets' sum 2");
  bad = good;
  bad["buckets"] = {{2, 1}, {1, 1}};
  CHECK(error_of(bad) == "histogram: buckets must be sorted and distinct");
  bad = good;
  bad["buckets"] = {{2049, 2}};
  CHECK(error_of(bad) == "histogram: bucket 2049 us is not a bucket boundary");
  bad = good;
  bad.erase("sum_ns");
  CHECK(error_of(bad) == "histogram: 'sum_ns' must be an integer");
  CHECK(error_of(json::array()) == "histogram: expected an object with count, min_ns, max_ns, sum_ns and buckets");
}
