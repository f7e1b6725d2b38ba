#pragma once
// Rule expressions as written in steady_state, abort_when and expect:
//   "load.p95 < 200ms", "load.error_rate < 1%", "health.ok", "load.error_rate > 50% for 10s",
//   "load.checkout.p95 < 300ms" (one named request of the load).
//   and a resource probe's quantities: "shop.rss < 500MB", "shop.cpu < 150%".
// Parsed once into a typed form the analysis evaluates per window.

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace faultline::engine {

// What a statistic measures, which decides the unit its threshold is written in.
// bytes and share (CPU cores, may exceed 100%) are the units of resource quantities.
enum class stat_unit { latency, fraction, per_second, count, number, boolean, bytes, share };

enum class statistic {
  p50, p75, p90, p95, p99, p999, max, min, mean,  // latency of the window's samples
  error_rate, availability,                       // fractions of samples
  rps, count, errors,                             // throughput and counts
  value,                                          // the probe's extracted value (last in window)
  ok,                                             // every sample in the window was ok
};

enum class comparator { less, less_equal, greater, greater_equal, equal, not_equal };

struct rule {
  std::string text;    // as written
  std::string series;  // "load", "load.<request>" or a probe name
  statistic stat = statistic::ok;
  comparator cmp = comparator::equal;
  double threshold = 1;  // canonical unit: seconds for latency, 0..1 for fractions, ...
  std::optional<std::chrono::nanoseconds> sustained;  // "for 10s"
  bool negated = false;                               // "not health.ok"
  // A resource quantity ("shop.rss"): `series` is the quantity's series, `stat` is value, and the
  // threshold is in the quantity's unit.
  std::optional<stat_unit> quantity_unit;
};

stat_unit unit_of(statistic s);
stat_unit unit_of(const rule& r);  // the quantity's unit, else the statistic's
const char* to_string(statistic s);
const char* to_string(comparator c);
std::optional<statistic> statistic_from_string(std::string_view name);
bool compare(double measured, comparator c, double threshold);

// A rule that is not well formed. `column` is the 0-based offset in the text where it went wrong.
class rule_error : public std::runtime_error {
public:
  rule_error(std::size_t column, const std::string& message)
      : std::runtime_error(message), column_(column) {}
  std::size_t column() const noexcept { return column_; }

private:
  std::size_t column_;
};

// Parses one rule. Throws rule_error naming the problem and the fix. "<probe>.<quantity>" (a name
// from probes/resource_quantity.hpp) reads the quantity's series; the loader checks that the
// probe measures it.
rule parse_rule(std::string_view text);

// The threshold written back in the statistic's unit ("200ms", "1%", "0.5", "500MB").
std::string format_threshold(const rule& r);
// A measured value in a unit, for people ("12.3ms", "3.2%", "512MiB", "150%").
std::string format_measured(stat_unit unit, double v);

}  // namespace faultline::engine
