#include "probes/load_values.hpp"

#include "core/units.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace faultline::probes {

int load_value::column_of(std::string_view column_name) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == column_name) return static_cast<int>(i);
  return -1;
}

const param_schema& load_value_params() {
  static const param_schema schema{
      {"range", param_kind::text_list, "a uniform integer from..to, both included, e.g. [1, 1000]"},
      {"list", param_kind::text_list, "one of these texts, e.g. [red, green, blue]"},
      {"csv", param_kind::text, "a CSV file with a header row (read once); ${name.column} is a cell of one row"},
      {"sequence", param_kind::integer, "1, 2, 3, ... from this number, never repeated across workers"},
      {"order", param_kind::choice, "list and csv: rows at random or in turn", std::string("random"), false, {}, {},
       {"random", "in_turn"}},
  };
  return schema;
}

void parse_csv(std::string_view text, std::vector<std::string>& columns, std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> all;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  bool cell_started = false;
  int line = 1;
  const auto end_row = [&] {
    row.push_back(std::move(cell));
    cell.clear();
    cell_started = false;
    // A blank line is no row.
    if (!(row.size() == 1 && row[0].empty())) all.push_back(std::move(row));
    row.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (c == '"' && !cell_started) {
      quoted = true;
      cell_started = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      cell_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
      ++line;
    } else {
      cell += c;
      cell_started = true;
    }
  }
  if (quoted) throw std::invalid_argument(fmt::format("line {}: a quoted field is not closed", line));
  if (cell_started || !row.empty()) end_row();
  if (all.empty()) throw std::invalid_argument("the file is empty; the first line names the columns");
  columns = std::move(all.front());
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r].size() != columns.size())
      throw std::invalid_argument(fmt::format("row {} has {} fields, the header has {}", r + 1, all[r].size(), columns.size()));
    rows.push_back(std::move(all[r]));
  }
  if (rows.empty()) throw std::invalid_argument("the file has a header but no rows");
}

load_value make_load_value(std::string name, const params& p, const std::filesystem::path& base_dir) {
  load_value v;
  v.name = std::move(name);
  int kinds = 0;
  for (const char* k : {"range", "list", "csv", "sequence"}) kinds += p.has(k) ? 1 : 0;
  if (kinds != 1)
    throw param_error(kinds == 0 ? "range" : "list",
                      fmt::format("value '{}' needs exactly one of range (e.g. [1, 1000]), list, csv or sequence", v.name));
  v.in_order = p.maybe<std::string>("order").value_or("random") == "in_turn";
  if (p.has("range")) {
    const auto& bounds = p.list("range");
    try {
      if (bounds.size() != 2) throw unit_error("two bounds");
      v.type = load_value::kind::range;
      v.low = parse_integer(bounds[0]);
      v.high = parse_integer(bounds[1]);
    } catch (const unit_error&) {
      throw param_error("range", fmt::format("value '{}': write the range as two whole numbers, e.g. range: [1, 1000]", v.name));
    }
    if (v.high < v.low)
      throw param_error("range", fmt::format("value '{}': the range [{}, {}] runs backwards; write the smaller bound first",
                                             v.name, v.low, v.high));
  } else if (p.has("list")) {
    v.type = load_value::kind::list;
    for (const auto& item : p.list("list")) v.rows.push_back({item});
    if (v.rows.empty()) throw param_error("list", fmt::format("value '{}': the list is empty", v.name));
  } else if (p.has("csv")) {
    v.type = load_value::kind::csv;
    auto path = std::filesystem::path(p.text("csv"));
    if (path.is_relative()) path = base_dir / path;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw param_error("csv", fmt::format("value '{}': cannot read '{}' (the path is relative to the experiment file)",
                                                  v.name, path.string()));
    std::ostringstream text;
    text << in.rdbuf();
    try {
      parse_csv(text.str(), v.columns, v.rows);
    } catch (const std::invalid_argument& e) {
      throw param_error("csv", fmt::format("value '{}': {}: {}", v.name, path.string(), e.what()));
    }
  } else {
    v.type = load_value::kind::sequence;
    v.start = p.integer("sequence");
  }
  return v;
}

value_stream::value_stream(const std::vector<load_value>& values, std::atomic<std::int64_t>* counters, std::uint64_t seed)
    : values_(&values), counters_(counters), random_(seed) {}

std::int64_t value_stream::draw(std::size_t index) {
  const auto& v = (*values_)[index];
  switch (v.type) {
    case load_value::kind::range:
      return std::uniform_int_distribution<std::int64_t>(v.low, v.high)(random_);
    case load_value::kind::sequence:
      return v.start + counters_[index].fetch_add(1, std::memory_order_relaxed);
    case load_value::kind::list:
    case load_value::kind::csv: {
      const auto n = static_cast<std::int64_t>(v.rows.size());
      if (v.in_order) return counters_[index].fetch_add(1, std::memory_order_relaxed) % n;
      return std::uniform_int_distribution<std::int64_t>(0, n - 1)(random_);
    }
  }
  return 0;
}

}  // namespace faultline::probes
