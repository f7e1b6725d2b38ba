#pragma once
// Prometheus text exposition (format 0.0.4), written one way for every /metrics faultline serves:
// families with HELP and TYPE once, label values escaped, numbers as Prometheus reads them, and
// the fixed latency buckets of every faultline histogram, so histograms of different runs (and of
// the proxy daemon) aggregate. docs/metrics.md lists the bounds.

#include "core/histogram.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::prometheus {

enum class metric_type { counter, gauge, histogram };
const char* to_string(metric_type t);

struct label {
  std::string name;
  std::string value;
};
using labels = std::vector<label>;

// Upper bounds, in seconds, of every latency histogram faultline exports (1-2-5 steps from
// 100 us to 60 s); the +Inf bucket follows them. Fixed: changing them breaks aggregation across
// runs, so they change only with a note in docs/metrics.md.
inline constexpr std::array<double, 18> latency_bounds{0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005,
                                                       0.01,   0.02,   0.05,   0.1,   0.2,   0.5,
                                                       1,      2,      5,      10,    20,    60};

// A latency histogram in latency_bounds: cumulative counts, as Prometheus's _bucket series are.
struct latency_buckets {
  std::array<std::uint64_t, latency_bounds.size()> at_or_below{};
  std::uint64_t count = 0;  // the +Inf bucket and _count
  double sum_seconds = 0;   // _sum

  // A sample counts in a bucket when the smallest value of its histogram slot (within 1 part in
  // 1024 of the sample) is at or below the bound.
  void add(const compact_histogram& h);
  void add(const latency_buckets& other);
  friend bool operator==(const latency_buckets&, const latency_buckets&) = default;
};

// One metric family: its samples in the order they were added.
class family {
public:
  family(std::string name, metric_type type, std::string help);

  const std::string& name() const { return name_; }
  metric_type type() const { return type_; }
  const std::string& help() const { return help_; }
  bool empty() const { return samples_.empty(); }

  // A counter or gauge sample. Throws std::logic_error for a histogram family.
  void add(labels l, double value);
  // The _bucket, _sum and _count series of one histogram. Throws std::logic_error for another type.
  void add(labels l, const latency_buckets& h);

  void write(std::string& out) const;  // nothing when there are no samples

private:
  friend class exposition;  // merge() appends another family's samples
  struct sample {
    const char* suffix;  // "", "_bucket", "_sum", "_count"
    labels l;
    double value;
  };
  std::string name_;
  metric_type type_;
  std::string help_;
  std::vector<sample> samples_;
};

// Families in the order they were first added.
class exposition {
public:
  // The family named `name`, created on first use; later calls must give the same type (else
  // std::logic_error). References stay valid as families are added.
  family& add(const std::string& name, metric_type type, const std::string& help);
  const family* find(std::string_view name) const;
  const std::deque<family>& families() const { return families_; }
  // Appends the other's samples to the families of the same name (several runs in one file).
  void merge(const exposition& other);
  std::string text() const;

private:
  std::deque<family> families_;
};

// "a\"b\\c\nd" as it must appear between the quotes of a label value.
std::string escape_label_value(std::string_view value);
// HELP text: backslashes and newlines escaped.
std::string escape_help(std::string_view text);
// A sample value: integers in full, others in the shortest form that reads back, +Inf, -Inf, NaN.
std::string format_value(double v);
// [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]* (names starting "__" are reserved).
bool is_metric_name(std::string_view name);
bool is_label_name(std::string_view name);

// The Content-Type of the text format.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace faultline::prometheus
