#pragma once
// Statistics for comparing runs: median and quantiles, the Mann-Whitney U test and percentile
// bootstrap intervals with a fixed seed. Pure functions over plain numbers; docs/analysis.md
// ("Statistics") states the assumptions. Checked against scipy in tests/reports/stats_test.cpp.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace faultline::reports::stats {

// The q-quantile (0..1) with linear interpolation between order statistics (numpy's default
// "linear" method). `values` need not be sorted; throws std::invalid_argument when empty.
double quantile(std::span<const double> values, double q);
double median(std::span<const double> values);

struct mann_whitney_result {
  double u = 0;         // U of the first sample: how often one of its values exceeds one of the second's (ties count 1/2)
  double p = 1;         // two-sided p-value
  bool exact = false;   // exact null distribution (small samples without ties) or the normal approximation
};

// Two-sided Mann-Whitney U test, as scipy.stats.mannwhitneyu(x, y) with method "auto": the exact
// distribution when either sample has at most 8 values and there are no ties, else the normal
// approximation with tie and continuity correction. Throws std::invalid_argument on an empty sample.
mann_whitney_result mann_whitney_u(std::span<const double> x, std::span<const double> y);

// The smallest two-sided p-value an exact test on samples of these sizes can give: 2 / C(n1+n2, n1).
double smallest_p(std::size_t n1, std::size_t n2);

struct interval {
  double low = 0;
  double high = 0;
  bool contains(double v) const { return low <= v && v <= high; }
};

struct bootstrap_options {
  std::size_t resamples = 10000;
  double confidence = 0.95;
  std::uint64_t seed = 20231;  // fixed: the same journals always give the same interval
};

using one_sample_statistic = std::function<double(std::span<const double>)>;
using two_sample_statistic = std::function<double(std::span<const double>, std::span<const double>)>;

// Percentile bootstrap interval of `statistic`: resamples `x` with replacement.
interval bootstrap(std::span<const double> x, const one_sample_statistic& statistic, const bootstrap_options& options = {});
// Two independent samples, each resampled with replacement on its own (scipy's paired=False).
interval bootstrap(std::span<const double> x, std::span<const double> y, const two_sample_statistic& statistic,
                   const bootstrap_options& options = {});

}  // namespace faultline::reports::stats
