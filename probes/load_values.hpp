#pragma once
// Values for ${name} in load requests: a uniform integer range, a list, the rows of a CSV file
// (read once, when the load is configured) and a sequence. Declared once per load and immutable;
// each worker draws from its own seeded random stream, and sequences and in-order picks share one
// counter per value across workers so that no two requests get the same number.

#include "core/params.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::probes {

struct load_value {
  enum class kind { range, list, csv, sequence };
  std::string name;
  kind type = kind::range;
  std::int64_t low = 0;   // range: inclusive bounds
  std::int64_t high = 0;
  std::int64_t start = 1;  // sequence: the first number; each draw takes the next
  std::vector<std::string> columns;            // csv: the header row (a list has none)
  std::vector<std::vector<std::string>> rows;  // list: one cell per row; csv: one cell per column
  bool in_order = false;  // list, csv: rows in turn, shared by all workers, instead of at random

  // The column of `column_name` (csv), or -1.
  int column_of(std::string_view column_name) const;
};

// The keys of one entry under `load: { http: { values: { <name>: {...} } } }`.
const param_schema& load_value_params();

// One declared value from its parameters; a CSV path is relative to `base_dir`. Throws
// param_error naming the parameter (a missing file, an empty list, a range the wrong way round).
load_value make_load_value(std::string name, const params& p, const std::filesystem::path& base_dir);

// Parses CSV text (RFC 4180: commas, double-quoted fields with "" for a quote, LF or CRLF); the
// first row is the header. Throws std::invalid_argument naming the line.
void parse_csv(std::string_view text, std::vector<std::string>& columns, std::vector<std::vector<std::string>>& rows);

// One worker's draws. `counters` holds one shared counter per value (sequences, in-order picks).
class value_stream {
public:
  value_stream(const std::vector<load_value>& values, std::atomic<std::int64_t>* counters, std::uint64_t seed);

  // range, sequence: the number; list, csv: the row's index.
  std::int64_t draw(std::size_t value);

private:
  const std::vector<load_value>* values_;
  std::atomic<std::int64_t>* counters_;
  std::mt19937_64 random_;
};

}  // namespace faultline::probes
