// The statistics against reference values: Debian's python3-scipy computed in the test from the
// same data (skipped without it), and plain python3 (exact permutation p-values, the exact
// bootstrap distribution of a median), which every machine that runs the tests has.
#include "reports/stats.hpp"
#include "tests/support/command.hpp"
#include "tests/support/skip.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

using namespace faultline;
namespace stats = reports::stats;

namespace {

// Debian's python (not a pyenv or venv one on PATH): python3-scipy installs for it.
constexpr const char* debian_python = "/usr/bin/python3";

// Runs `script` (which reads the JSON document `input` from sys.argv[1] and prints one JSON
// document) with Debian's python3.
nlohmann::json run_python(const std::string& script, const nlohmann::json& input) {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-stats-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "reference.py") << script;
  std::ofstream(dir / "input.json") << input.dump();
  auto r = test::run_command(std::string(debian_python) + " " + (dir / "reference.py").string() + " " + (dir / "input.json").string());
  std::filesystem::remove_all(dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.output);
}

// The same with scipy; skips the test when scipy is not installed.
nlohmann::json scipy(const std::string& script, const nlohmann::json& input) {
  auto check = test::run_command(std::string(debian_python) + " -c 'import scipy.stats'");
  if (check.exit_code != 0) test::skip("needs Debian's python3-scipy for reference values (apt install python3-scipy): " + check.output);
  return run_python(script, input);
}

std::vector<double> draw(std::mt19937_64& rng, std::size_t n, double mean, double spread, double round_to = 0) {
  std::vector<double> v(n);
  std::lognormal_distribution<double> d(std::log(mean), spread);
  for (auto& x : v) {
    x = d(rng);
    if (round_to > 0) x = std::round(x / round_to) * round_to;  // coarse values make ties
  }
  return v;
}

const char* mann_whitney_script = R"(
import json, sys
from scipy.stats import mannwhitneyu
cases = json.load(open(sys.argv[1]))
print(json.dumps([[float(r.statistic), float(r.pvalue)] for r in (mannwhitneyu(c[0], c[1]) for c in cases)]))
)";

}  // namespace

TEST_CASE("stats: quantiles and medians agree with numpy", "[reports]") {
  std::mt19937_64 rng(7);
  nlohmann::json cases = nlohmann::json::array();
  std::vector<std::vector<double>> samples{{3.0}, {2.0, 1.0}, {5, 1, 4, 2, 3}, draw(rng, 10, 0.3, 0.4), draw(rng, 31, 1, 1)};
  for (const auto& s : samples) cases.push_back(s);
  auto expected = scipy(R"(
import json, sys, numpy
cases = json.load(open(sys.argv[1]))
print(json.dumps([[float(numpy.median(c)), float(numpy.percentile(c, 2.5)), float(numpy.percentile(c, 97.5)), float(numpy.percentile(c, 90))] for c in cases]))
)", cases);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    INFO("case " << i);
    CHECK(stats::median(samples[i]) == Approx(expected[i][0].get<double>()).epsilon(1e-12));
    CHECK(stats::quantile(samples[i], 0.025) == Approx(expected[i][1].get<double>()).epsilon(1e-12));
    CHECK(stats::quantile(samples[i], 0.975) == Approx(expected[i][2].get<double>()).epsilon(1e-12));
    CHECK(stats::quantile(samples[i], 0.9) == Approx(expected[i][3].get<double>()).epsilon(1e-12));
  }
  CHECK_THROWS_AS(stats::median(std::vector<double>{}), std::invalid_argument);
}

TEST_CASE("stats: Mann-Whitney U and its p-value agree with scipy, exact and approximate", "[reports]") {
  std::mt19937_64 rng(11);
  struct sample_pair {
    std::vector<double> x, y;
    bool exact;
  };
  std::vector<sample_pair> pairs{
      {{1, 2, 3, 4}, {3.5, 5, 6, 7, 8}, true},                                   // small, no ties: exact
      {{0.31, 0.29, 0.33, 0.30, 0.32}, {0.36, 0.35, 0.38, 0.34, 0.37}, true},    // 5 runs each, fully separated: p = 2/252
      {draw(rng, 5, 0.3, 0.1), draw(rng, 5, 0.3, 0.1), true},                     // the same distribution
      {draw(rng, 3, 1, 0.5), draw(rng, 40, 1.2, 0.5), true},                      // one side small: still exact
      {{1, 2, 2, 3, 4}, {2, 3, 3, 5, 6, 6}, false},                               // ties: normal approximation
      {draw(rng, 30, 0.3, 0.3, 0.01), draw(rng, 45, 0.36, 0.3, 0.01), false},     // windows, coarse values, many ties
      {draw(rng, 12, 1, 0.4), draw(rng, 9, 1, 0.4), false},                       // both above 8: normal approximation
      {{2, 2, 2}, {2, 2, 2, 2}, false},                                            // all equal
  };
  nlohmann::json cases = nlohmann::json::array();
  for (const auto& p : pairs) cases.push_back({p.x, p.y});
  auto expected = scipy(mann_whitney_script, cases);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    INFO("case " << i);
    auto r = stats::mann_whitney_u(pairs[i].x, pairs[i].y);
    CHECK(r.exact == pairs[i].exact);
    CHECK(r.u == Approx(expected[i][0].get<double>()).epsilon(1e-12));
    CHECK(r.p == Approx(expected[i][1].get<double>()).epsilon(1e-9).margin(1e-15));
  }
  CHECK(stats::mann_whitney_u(pairs[1].x, pairs[1].y).p == Approx(2.0 / 252));
  CHECK(stats::smallest_p(5, 5) == Approx(2.0 / 252));
  CHECK(stats::smallest_p(3, 3) == Approx(0.1));  // three runs a side can never reach p < 0.05
  CHECK_THROWS_AS(stats::mann_whitney_u(std::vector<double>{}, pairs[0].y), std::invalid_argument);
}

TEST_CASE("stats: percentile bootstrap intervals agree with scipy's and repeat with the same seed", "[reports]") {
  // The two generators differ, so the intervals agree up to resampling noise: each end must lie
  // within the range scipy's own end takes over ten seeds, widened by a fifth of that range plus
  // 1% of the interval width.
  std::mt19937_64 rng(23);
  auto x = draw(rng, 30, 0.3, 0.3);
  auto y = draw(rng, 25, 0.36, 0.3);
  auto runs_old = draw(rng, 5, 0.3, 0.1), runs_new = draw(rng, 5, 0.33, 0.1);
  auto relative_change = [](std::span<const double> a, std::span<const double> b) { return stats::median(b) / stats::median(a) - 1; };
  auto median_of = [](std::span<const double> a) { return stats::median(a); };
  auto expected = scipy(R"(
import json, sys, numpy
from scipy.stats import bootstrap
d = json.load(open(sys.argv[1]))
def rel(a, b): return numpy.median(b) / numpy.median(a) - 1
def ends(data, statistic):
    lo, hi = [], []
    for seed in range(10):
        ci = bootstrap(data, statistic, vectorized=False, paired=False, n_resamples=10000, confidence_level=0.95,
                       method='percentile', random_state=seed).confidence_interval
        lo.append(float(ci.low)); hi.append(float(ci.high))
    return [min(lo), max(lo), min(hi), max(hi)]
print(json.dumps([ends((d['x'],), numpy.median), ends((d['x'], d['y']), rel), ends((d['old'], d['new']), rel)]))
)",
                        {{"x", x}, {"y", y}, {"old", runs_old}, {"new", runs_new}});
  auto check_against = [](const stats::interval& got, const nlohmann::json& e) {
    double lo_min = e[0], lo_max = e[1], hi_min = e[2], hi_max = e[3];
    double slack_lo = (lo_max - lo_min) / 5 + (hi_min - lo_max) / 100, slack_hi = (hi_max - hi_min) / 5 + (hi_min - lo_max) / 100;
    INFO("got [" << got.low << ", " << got.high << "], scipy low " << lo_min << ".." << lo_max << ", high " << hi_min << ".." << hi_max);
    CHECK(got.low >= lo_min - slack_lo);
    CHECK(got.low <= lo_max + slack_lo);
    CHECK(got.high >= hi_min - slack_hi);
    CHECK(got.high <= hi_max + slack_hi);
  };
  auto one = stats::bootstrap(x, median_of);
  check_against(one, expected[0]);
  auto two = stats::bootstrap(x, y, relative_change);
  check_against(two, expected[1]);
  auto runs = stats::bootstrap(runs_old, runs_new, relative_change);
  check_against(runs, expected[2]);

  // A fixed seed: the same data always gives the same interval; another seed may move it.
  auto again = stats::bootstrap(x, y, relative_change);
  CHECK(again.low == two.low);
  CHECK(again.high == two.high);
  stats::bootstrap_options other;
  other.seed = 99;
  auto moved = stats::bootstrap(x, y, relative_change, other);
  CHECK(moved.low == Approx(two.low).margin(0.05));
  CHECK(two.contains(relative_change(x, y)));
}

namespace {

// Runs `script` with the standard library of Debian's python3 alone (no scipy, no numpy): an
// independent implementation to check against on any machine the test suite runs on.
nlohmann::json plain_python(const std::string& script, const nlohmann::json& input) {
  if (!std::filesystem::exists(debian_python)) test::skip("needs /usr/bin/python3 (apt install python3) for the independent reference");
  return run_python(script, input);
}

// Exact two-sided p-values by enumerating every split of the pooled values (a permutation test
// of U), and the normal approximation with tie and continuity correction from its textbook
// formula, in plain python.
const char* permutation_script = R"(
import itertools, json, math, sys
def u_of(x, y): return sum((a > b) + 0.5 * (a == b) for a in x for b in y)
def exact(x, y):
    pooled = x + y; n1 = len(x); u_obs = u_of(x, y); le = ge = total = 0
    for idx in itertools.combinations(range(len(pooled)), n1):
        chosen = set(idx)
        u = u_of([pooled[i] for i in idx], [pooled[i] for i in range(len(pooled)) if i not in chosen])
        total += 1; le += u <= u_obs; ge += u >= u_obs
    return [u_obs, min(1.0, 2.0 * min(le, ge) / total)]
def normal(x, y):
    pooled = sorted(x + y); n1, n2 = len(x), len(y); n = n1 + n2
    u1 = u_of(x, y); u = max(u1, n1 * n2 - u1)
    ties = 0.0; i = 0
    while i < n:
        j = i
        while j < n and pooled[j] == pooled[i]: j += 1
        t = j - i; ties += t ** 3 - t; i = j
    sigma = math.sqrt(n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))))
    if sigma == 0: return [u1, 1.0]
    z = (u - n1 * n2 / 2.0 - 0.5) / sigma
    return [u1, min(1.0, math.erfc(z / math.sqrt(2)))]
d = json.load(open(sys.argv[1]))
print(json.dumps({"exact": [exact(c[0], c[1]) for c in d["exact"]], "normal": [normal(c[0], c[1]) for c in d["normal"]]}))
)";

// The bootstrap distribution of the median of an odd number of distinct values is known exactly:
// P(median <= x_(j)) = P(Binomial(n, j/n) >= (n+1)/2). For each sample: the order statistics
// between which a 10,000-resample percentile interval's ends must fall, allowing 1 % of
// resampling noise on the tail probability (its standard error is 0.16 %).
const char* exact_bootstrap_script = R"(
import json, math, sys
def cdf_at(n, j):
    p = j / n; k0 = (n + 1) // 2
    return sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(k0, n + 1))
def support_between(xs, lo_prob, hi_prob):
    xs = sorted(xs); n = len(xs); cdf = [cdf_at(n, j) for j in range(1, n + 1)]
    first = lambda q: next(xs[j] for j in range(n) if cdf[j] >= q)
    return [first(lo_prob), first(hi_prob)]
d = json.load(open(sys.argv[1]))
print(json.dumps([[support_between(x, 0.015, 0.035), support_between(x, 0.965, 0.985)] for x in d]))
)";

}  // namespace

TEST_CASE("stats: Mann-Whitney p-values agree with an exact permutation count and the textbook normal approximation", "[reports]") {
  std::mt19937_64 rng(31);
  std::vector<std::pair<std::vector<double>, std::vector<double>>> exact_cases{
      {{19, 22, 16, 29, 24}, {20, 11, 17, 12}},                                 // Conover's example (scipy's docs): U = 17, p = 0.1111
      {{0.31, 0.29, 0.33, 0.30, 0.32}, {0.36, 0.35, 0.38, 0.34, 0.37}},         // fully separated 5 and 5: p = 2/252
      {draw(rng, 5, 0.3, 0.1), draw(rng, 5, 0.3, 0.1)},
      {draw(rng, 4, 1, 0.5), draw(rng, 7, 1.3, 0.5)},
      {draw(rng, 8, 1, 0.3), draw(rng, 8, 1.2, 0.3)},
      {draw(rng, 3, 1, 0.5), draw(rng, 12, 1.2, 0.5)},
  };
  std::vector<std::pair<std::vector<double>, std::vector<double>>> normal_cases{
      {{1, 2, 2, 3, 4}, {2, 3, 3, 5, 6, 6}},
      {draw(rng, 30, 0.3, 0.3, 0.01), draw(rng, 45, 0.36, 0.3, 0.01)},
      {draw(rng, 12, 1, 0.4), draw(rng, 9, 1, 0.4)},
  };
  nlohmann::json input{{"exact", nlohmann::json::array()}, {"normal", nlohmann::json::array()}};
  for (const auto& [x, y] : exact_cases) input["exact"].push_back({x, y});
  for (const auto& [x, y] : normal_cases) input["normal"].push_back({x, y});
  auto expected = plain_python(permutation_script, input);
  auto check_cases = [&](const auto& cases, const char* method, bool exact) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO(method << " case " << i);
      auto r = stats::mann_whitney_u(cases[i].first, cases[i].second);
      CHECK(r.exact == exact);
      CHECK(r.u == Approx(expected[method][i][0].get<double>()).epsilon(1e-12));
      CHECK(r.p == Approx(expected[method][i][1].get<double>()).epsilon(1e-9));
    }
  };
  check_cases(exact_cases, "exact", true);
  check_cases(normal_cases, "normal", false);
  // Published: Conover's example as scipy's documentation gives it.
  auto conover = stats::mann_whitney_u(exact_cases[0].first, exact_cases[0].second);
  CHECK(conover.u == 17);
  CHECK(conover.p == Approx(0.1111111111111111).epsilon(1e-12));
}

TEST_CASE("stats: bootstrap intervals of a median fall where its exact bootstrap distribution puts them", "[reports]") {
  std::mt19937_64 rng(37);
  std::vector<std::vector<double>> samples{draw(rng, 5, 0.3, 0.1), draw(rng, 9, 1, 0.4), draw(rng, 31, 0.2, 0.5)};
  auto expected = plain_python(exact_bootstrap_script, samples);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    INFO("sample " << i << " of " << samples[i].size());
    auto got = stats::bootstrap(samples[i], [](std::span<const double> v) { return stats::median(v); });
    INFO("got [" << got.low << ", " << got.high << "], expected low in " << expected[i][0].dump() << ", high in " << expected[i][1].dump());
    CHECK(got.low >= expected[i][0][0].get<double>());
    CHECK(got.low <= expected[i][0][1].get<double>());
    CHECK(got.high >= expected[i][1][0].get<double>());
    CHECK(got.high <= expected[i][1][1].get<double>());
  }
}
