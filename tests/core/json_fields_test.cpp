#include "core/json_fields.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace faultline;
using nlohmann::json;

namespace {

std::optional<std::string> positive(const json& v) {
  if (v.get<double>() > 0) return std::nullopt;
  return "positive, not " + v.dump();
}

struct point {
  double at = 0;
  std::string label;
  friend bool operator==(const point&, const point&) = default;
  static constexpr auto json_fields() { return std::tuple{field("at", &point::at), field("label", &point::label)}; }
};

struct sample_record {
  std::string name;
  bool on = false;
  std::int64_t delta = 0;
  std::uint64_t count = 0;
  double width = 1;
  std::optional<double> p99;
  std::optional<point> peak;
  std::vector<point> points;
  std::map<std::string, std::uint64_t> counts;
  json extra;
  std::string not_in_json;
  friend bool operator==(const sample_record&, const sample_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("name", &sample_record::name),     field("on", &sample_record::on),
                      field("delta", &sample_record::delta),   field("count", &sample_record::count),
                      field("width", &sample_record::width, positive), field("p99", &sample_record::p99),
                      field("peak", &sample_record::peak),     field("points", &sample_record::points),
                      field("counts", &sample_record::counts), field("extra", &sample_record::extra)};
  }
};

sample_record full() {
  return {"a", true, -3, 7, 0.5, 1e-7, point{2, "top"}, {{1, "x"}, {2.5, "y"}}, {{"ok", 3}}, {{"k", {1, "v"}}}, ""};
}

template <typename Record = sample_record>
std::string error_of(const json& doc) {
  try {
    (void)from_json_value<Record>(doc, "");
  } catch (const json_field_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("json_fields: one table writes and reads a struct, nested ones and containers included", "[core]") {
  auto r = full();
  auto doc = to_json_value(r);
  CHECK(doc == json::parse(R"({"name":"a","on":true,"delta":-3,"count":7,"width":0.5,"p99":1e-7,
      "peak":{"at":2.0,"label":"top"},"points":[{"at":1.0,"label":"x"},{"at":2.5,"label":"y"}],
      "counts":{"ok":3},"extra":{"k":[1,"v"]}})"));
  CHECK(from_json_value<sample_record>(doc, "") == r);

  r.p99.reset();
  r.peak.reset();
  doc = to_json_value(r);
  CHECK_FALSE(doc.contains("p99"));  // empty optionals are left out
  CHECK_FALSE(doc.contains("peak"));
  CHECK(from_json_value<sample_record>(doc, "") == r);
  doc["p99"] = nullptr;  // null reads as absent
  doc["unknown"] = 1;    // unknown keys are ignored
  CHECK(from_json_value<sample_record>(doc, "") == r);
}

TEST_CASE("json_fields: a value that does not fit names its field", "[core]") {
  const auto good = to_json_value(full());
  struct damage {
    const char* key;
    json value;
    std::string message;
  };
  for (const auto& d : std::vector<damage>{
           {"name", 1, "field 'name' must be a string, not number"},
           {"on", "yes", "field 'on' must be true or false, not string"},
           {"delta", 1.5, "field 'delta' must be an integer, not number"},
           {"count", -1, "field 'count' must be a non-negative integer, not number"},
           {"width", "1s", "field 'width' must be a number, not string"},
           {"width", 0, "field 'width' must be positive, not 0"},
           {"p99", "1s", "field 'p99' must be a number or null, not string"},
           {"peak", json::array(), "field 'peak' must be an object or null, not array"},
           {"points", json::array({json::object({{"at", 1}})}), "missing field 'points[0].label'"},
           {"counts", json::object({{"ok", "3"}}), "field 'counts.ok' must be a non-negative integer, not string"},
       }) {
    INFO(d.key << " = " << d.value.dump());
    auto doc = good;
    doc[d.key] = d.value;
    CHECK(error_of(doc) == d.message);
  }
  auto doc = good;
  doc.erase("extra");
  CHECK(error_of(doc) == "missing field 'extra'");
  CHECK(error_of(json::array()) == "the document must be an object, not array");
}

namespace {
struct run_record {
  std::string name;
  std::vector<point> levels;  // only some runs have levels
  friend bool operator==(const run_record&, const run_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("name", &run_record::name), field_omitted_when_empty("levels", &run_record::levels)};
  }
};
}  // namespace

TEST_CASE("json_fields: a list only some documents have is left out when empty and reads as empty when missing", "[core]") {
  run_record r{"a", {}};
  auto doc = to_json_value(r);
  CHECK(doc == json::parse(R"({"name":"a"})"));
  CHECK(from_json_value<run_record>(doc, "") == r);
  r.levels = {{1, "x"}};
  doc = to_json_value(r);
  CHECK(doc == json::parse(R"({"name":"a","levels":[{"at":1.0,"label":"x"}]})"));
  CHECK(from_json_value<run_record>(doc, "") == r);
  doc["levels"] = "x";
  CHECK_THROWS_WITH(from_json_value<run_record>(doc, ""), "field 'levels' must be an array, not string");
}

namespace {
struct narrow_record {
  std::uint16_t port = 0;
  std::int8_t level = 0;
  static constexpr auto json_fields() { return std::tuple{field("port", &narrow_record::port), field("level", &narrow_record::level)}; }
};

std::string narrow_error_of(const json& doc) { return error_of<narrow_record>(doc); }
}  // namespace

TEST_CASE("json_fields: an integer that does not fit its field is refused with the range, never wrapped", "[core]") {
  const auto read = from_json_value<narrow_record>(json{{"port", 65535}, {"level", -128}}, "");
  CHECK(read.port == 65535);
  CHECK(read.level == -128);
  CHECK(narrow_error_of({{"port", 65536}, {"level", 0}}) == "field 'port' must be a non-negative integer from 0 to 65535, not 65536");
  CHECK(narrow_error_of({{"port", 1}, {"level", 128}}) == "field 'level' must be an integer from -128 to 127, not 128");
  CHECK(narrow_error_of({{"port", 1}, {"level", -129}}) == "field 'level' must be an integer from -128 to 127, not -129");
  CHECK(narrow_error_of({{"port", -1}, {"level", 0}}) == "field 'port' must be a non-negative integer, not number");
  CHECK(narrow_error_of({{"port", 1e23}, {"level", 0}}) == "field 'port' must be a non-negative integer, not number");
}
