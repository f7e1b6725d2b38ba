#pragma once
// What the resource probes (process, cgroup) measure besides their outcome, declared once: each
// quantity's name in rules ("shop.rss < 500MB") and series ("shop.rss"), its unit, its Prometheus
// metric, and the HTML report's chart it goes on. The rule parser, the loader, the probes, the
// run's /metrics, the report and docs/probes.md all read these tables.

#include <chrono>
#include <optional>
#include <utility>
#include <span>
#include <string>
#include <string_view>

namespace faultline::probes {

// share: CPU seconds per second; 1 is one core busy, 1.5 (150%) one and a half.
enum class quantity_unit { bytes, seconds, share, count };

struct quantity {
  std::string_view name;  // "rss"
  quantity_unit unit;
  std::string_view help;
  std::string_view metric;       // the Prometheus family; empty: not exported (derived from others)
  bool counter = false;          // grows for the life of the process or cgroup (a Prometheus counter)
  std::string_view label_name;   // tells this quantity apart within a shared family ("state"); or empty
  std::string_view label_value;  // "established"
  std::string_view chart;        // the report panel it is drawn on (memory, cpu, connections); or empty
};

std::span<const quantity> process_quantities();
std::span<const quantity> cgroup_quantities();

// The HELP of a quantity's Prometheus family: its own help, or for a family several quantities
// share (told apart by a label), what the family as a whole counts.
std::string_view family_help(const quantity& q);

// A quantity by name, from either table: a name means the same (and has the same unit) in both.
const quantity* find_quantity(std::string_view name);
const quantity* find_quantity(std::span<const quantity> table, std::string_view name);

// The series a probe's quantity is recorded in: "<probe>.<quantity>".
std::string quantity_series_name(std::string_view probe, const quantity& q);

// "shop.rss" -> {"shop", rss}; none for a series that is not a quantity's (probe names hold no dot).
struct quantity_series {
  std::string_view probe;
  const quantity* what = nullptr;
};
std::optional<quantity_series> split_quantity_series(std::string_view series);

// CPU seconds per second between two checks of a resource probe (1 = one core busy).
class cpu_share {
public:
  // The share since the previous reading; none for the first one (or after reset()).
  std::optional<double> next(std::chrono::steady_clock::time_point now, double cpu_seconds);
  void reset() { previous_.reset(); }

private:
  std::optional<std::pair<std::chrono::steady_clock::time_point, double>> previous_;  // when, CPU seconds
};

// One value a check measured.
struct reading {
  const quantity* what = nullptr;
  double value = 0;
};

}  // namespace faultline::probes
