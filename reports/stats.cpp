#include "reports/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

namespace faultline::reports::stats {

double quantile(std::span<const double> values, double q) {
  if (values.empty()) throw std::invalid_argument("quantile of no values");
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  auto below = static_cast<std::size_t>(std::floor(position));
  auto above = std::min(below + 1, sorted.size() - 1);
  double fraction = position - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

double median(std::span<const double> values) { return quantile(values, 0.5); }

namespace {

// Counts of U = 0..m*n over all C(m+n, m) orderings of m and n values without ties: the
// coefficients of the Gaussian binomial prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i). m is the smaller size.
std::vector<double> u_distribution(std::size_t m, std::size_t n) {
  std::vector<double> c(m * n + 1, 0.0);
  c[0] = 1;
  for (std::size_t i = 1; i <= m; ++i) {
    for (std::size_t k = c.size(); k-- > n + i;) c[k] -= c[k - (n + i)];    // times (1 - q^(n+i))
    for (std::size_t k = i; k < c.size(); ++k) c[k] += c[k - i];           // divided by (1 - q^i)
  }
  return c;
}

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

}  // namespace

double smallest_p(std::size_t n1, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  auto m = std::min(n1, n2), n = std::max(n1, n2);
  double combinations = 1;
  for (std::size_t i = 1; i <= m; ++i) combinations = combinations * static_cast<double>(n + i) / static_cast<double>(i);
  return std::min(1.0, 2 / combinations);
}

mann_whitney_result mann_whitney_u(std::span<const double> x, std::span<const double> y) {
  if (x.empty() || y.empty()) throw std::invalid_argument("Mann-Whitney U needs at least one value on each side");
  const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;
  // Mid-ranks of the pooled values; the tie term sum(t^3 - t) over groups of equal values.
  std::vector<std::pair<double, bool>> pooled;  // value, from x
  pooled.reserve(n);
  for (double v : x) pooled.emplace_back(v, true);
  for (double v : y) pooled.emplace_back(v, false);
  std::sort(pooled.begin(), pooled.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum_x = 0, tie_term = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].second) rank_sum_x += mid_rank;
    double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  mann_whitney_result r;
  const double dn1 = static_cast<double>(n1), dn2 = static_cast<double>(n2), dn = static_cast<double>(n);
  r.u = rank_sum_x - dn1 * (dn1 + 1) / 2;
  double u = std::max(r.u, dn1 * dn2 - r.u);  // two-sided: the larger U, its upper tail doubled
  r.exact = (n1 <= 8 || n2 <= 8) && tie_term == 0;
  double tail;
  if (r.exact) {
    auto counts = u_distribution(std::min(n1, n2), std::max(n1, n2));
    // P(U >= u) = P(U <= m*n - u) by symmetry.
    auto upto = static_cast<std::size_t>(std::llround(dn1 * dn2 - u));
    double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    tail = std::accumulate(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(upto) + 1, 0.0) / total;
  } else {
    double s = std::sqrt(dn1 * dn2 / 12 * ((dn + 1) - tie_term / (dn * (dn - 1))));
    // All values equal: no evidence of a difference.
    tail = s > 0 ? normal_sf((u - dn1 * dn2 / 2 - 0.5) / s) : 0.5;
  }
  r.p = std::clamp(2 * tail, 0.0, 1.0);
  return r;
}

namespace {

// Unbiased index in [0, n) from a generator whose output sequence the standard fixes (unlike
// std::uniform_int_distribution's), so an interval is the same with every standard library.
std::size_t draw_index(std::mt19937_64& rng, std::size_t n) {
  const std::uint64_t bound = static_cast<std::uint64_t>(n);
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
  std::uint64_t v;
  do v = rng();
  while (v >= limit);
  return static_cast<std::size_t>(v % bound);
}

void resample(std::span<const double> from, std::vector<double>& into, std::mt19937_64& rng) {
  into.resize(from.size());
  for (auto& v : into) v = from[draw_index(rng, from.size())];
}

interval percentile_interval(std::vector<double>& estimates, double confidence) {
  // Statistics that cannot be computed on a resample (NaN) are left out.
  estimates.erase(std::remove_if(estimates.begin(), estimates.end(), [](double v) { return std::isnan(v); }), estimates.end());
  if (estimates.empty()) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  double alpha = (1 - confidence) / 2;
  return {quantile(estimates, alpha), quantile(estimates, 1 - alpha)};
}

}  // namespace

interval bootstrap(std::span<const double> x, const one_sample_statistic& statistic, const bootstrap_options& options) {
  if (x.empty()) throw std::invalid_argument("bootstrap of no values");
  std::mt19937_64 rng(options.seed);
  std::vector<double> estimates, sample;
  estimates.reserve(options.resamples);
  for (std::size_t b = 0; b < options.resamples; ++b) {
    resample(x, sample, rng);
    estimates.push_back(statistic(sample));
  }
  return percentile_interval(estimates, options.confidence);
}

interval bootstrap(std::span<const double> x, std::span<const double> y, const two_sample_statistic& statistic,
                   const bootstrap_options& options) {
  if (x.empty() || y.empty()) throw std::invalid_argument("bootstrap needs at least one value on each side");
  std::mt19937_64 rng(options.seed);
  std::vector<double> estimates, sx, sy;
  estimates.reserve(options.resamples);
  for (std::size_t b = 0; b < options.resamples; ++b) {
    resample(x, sx, rng);
    resample(y, sy, rng);
    estimates.push_back(statistic(sx, sy));
  }
  return percentile_interval(estimates, options.confidence);
}

}  // namespace faultline::reports::stats
