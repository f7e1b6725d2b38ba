#pragma once
// Every sample of one series, compactly: 8 bytes each (16 with a probe value) holding the intended
// start and the latency to the microsecond, the outcome and whether a fallback answered. The
// analysis reads it in intended order to time events finer than a window; the journal stores it
// delta- and varint-encoded (docs/probes.md, "The sample log").

#include "probes/sample.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace faultline::probes {

// One sample as the log gives it back.
struct logged_sample {
  std::chrono::nanoseconds intended{};  // offset from the timeline's start
  std::chrono::nanoseconds latency{};
  outcome result = outcome::ok;
  bool fallback = false;  // a fallback answered (the load's `fallback.header` matched)
  std::optional<double> value;

  std::chrono::nanoseconds completed() const { return intended + latency; }
  bool failed() const { return result != outcome::ok; }
  friend bool operator==(const logged_sample&, const logged_sample&) = default;
};

// Copies share their samples until one of them changes (copy on write): handing the log of a
// finished run to the analysis and the journal costs nothing.
class sample_log {
public:
  // Latencies are kept to the microsecond up to this; longer ones are kept as this.
  static constexpr std::chrono::microseconds max_latency{(std::int64_t{1} << 27) - 1};

  // Offsets before 0 are logged at 0; non-finite values are not logged (JSON cannot hold them).
  void add(std::chrono::nanoseconds intended, std::chrono::nanoseconds latency, outcome result, bool fallback,
           std::optional<double> value);
  void add(const logged_sample& s) { add(s.intended, s.latency, s.result, s.fallback, s.value); }

  std::size_t size() const { return data_ ? data_->size : 0; }
  bool empty() const { return size() == 0; }
  bool has_values() const;
  std::size_t bytes() const;  // memory held, for the benchmark

  // Puts the samples in intended order; samples intended at the same microsecond keep the order
  // they were added in. Cheap when already sorted.
  void sort();
  bool sorted() const { return !data_ || data_->sorted; }
  // The i-th sample (in intended order once sorted).
  logged_sample operator[](std::size_t i) const;
  std::vector<logged_sample> all() const;  // for tests and small series

  // {"count": N, "data": base64 of the varint stream, "values": [...] when the series has values}.
  // Writes in intended order (sorts a copy when needed).
  nlohmann::json to_json() const;
  // Throws std::invalid_argument naming what is wrong.
  static sample_log from_json(const nlohmann::json& j);

  friend bool operator==(const sample_log& a, const sample_log& b) { return a.all() == b.all(); }

private:
  // Samples whose intended offset in microseconds has the same upper 32 bits; each entry keeps
  // the lower 32. Almost every run fits in the first epoch (71 minutes).
  struct entry {
    std::uint32_t intended_us = 0;
    std::uint32_t packed = 0;  // latency_us << 5 | fallback << 4 | outcome
  };
  struct epoch {
    std::vector<entry> entries;
    std::vector<double> values;  // parallel to entries once any sample had a value; NaN: none
  };
  struct samples {
    std::vector<epoch> epochs;
    std::size_t size = 0;
    bool sorted = true;
    std::int64_t last_us = 0;  // the latest intended offset added, to keep `sorted`
  };
  std::shared_ptr<samples> data_;

  samples& own();  // this log's own samples, copied first if they are shared
};

// Base64 (RFC 4648, with padding) of bytes; decode throws std::invalid_argument on bad input.
std::string base64_encode(const std::string& bytes);
std::string base64_decode(const std::string& text);

}  // namespace faultline::probes
