// ${...} values: declaration from parameters (and their errors), CSV reading, and draws.

#include "probes/load_values.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

using namespace faultline;
using namespace faultline::probes;

namespace {

params with(std::initializer_list<std::pair<const char*, param_value>> values) {
  params p;
  for (const auto& [k, v] : values) p.set(k, v);
  return p;
}

}  // namespace

TEST_CASE("load values are declared from their parameters", "[probes]") {
  auto range = make_load_value("id", with({{"range", std::vector<std::string>{"1", "1000"}}}), ".");
  CHECK(range.type == load_value::kind::range);
  CHECK(range.low == 1);
  CHECK(range.high == 1000);
  auto list = make_load_value("color", with({{"list", std::vector<std::string>{"red", "green"}}, {"order", std::string("in_turn")}}), ".");
  CHECK(list.type == load_value::kind::list);
  CHECK(list.rows.size() == 2);
  CHECK(list.in_order);
  auto seq = make_load_value("n", with({{"sequence", std::int64_t{5}}}), ".");
  CHECK(seq.type == load_value::kind::sequence);
  CHECK(seq.start == 5);
}

TEST_CASE("load value errors name the parameter and the fix", "[probes]") {
  struct bad_case {
    params p;
    std::string param;
    std::string message;
  };
  const std::vector<bad_case> cases{
      {with({}), "range", "value 'v' needs exactly one of range (e.g. [1, 1000]), list, csv or sequence"},
      {with({{"range", std::vector<std::string>{"1"}}}), "range", "value 'v': write the range as two whole numbers, e.g. range: [1, 1000]"},
      {with({{"range", std::vector<std::string>{"9", "2"}}}), "range", "value 'v': the range [9, 2] runs backwards; write the smaller bound first"},
      {with({{"list", std::vector<std::string>{}}}), "list", "value 'v': the list is empty"},
      {with({{"csv", std::string("no-such-file.csv")}}), "csv",
       "value 'v': cannot read './no-such-file.csv' (the path is relative to the experiment file)"},
  };
  for (const auto& c : cases) {
    try {
      make_load_value("v", c.p, ".");
      FAIL("accepted: " << c.message);
    } catch (const param_error& e) {
      CHECK(e.param() == c.param);
      CHECK(std::string(e.what()) == c.message);
    }
  }
}

TEST_CASE("CSV files: a header row, quoted fields, CRLF, and their errors", "[probes]") {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  parse_csv("email,password\r\nann@example.com,\"se,cret\"\r\n\"bo \"\"b\"\"\",x\n\n", columns, rows);
  CHECK(columns == std::vector<std::string>{"email", "password"});
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::vector<std::string>{"ann@example.com", "se,cret"});
  CHECK(rows[1] == std::vector<std::string>{"bo \"b\"", "x"});

  const auto error_of = [](const std::string& text) {
    std::vector<std::string> c;
    std::vector<std::vector<std::string>> r;
    try {
      parse_csv(text, c, r);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(error_of("") == "the file is empty; the first line names the columns");
  CHECK(error_of("a,b\n") == "the file has a header but no rows");
  CHECK(error_of("a,b\n1\n") == "row 2 has 1 fields, the header has 2");
  CHECK(error_of("a\n\"open\n") == "line 3: a quoted field is not closed");

  const auto dir = std::filesystem::temp_directory_path() / "faultline-values-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "users.csv") << "user,password\nann,1\nbob,2\n";
  auto v = make_load_value("who", with({{"csv", std::string("users.csv")}}), dir);
  CHECK(v.column_of("password") == 1);
  CHECK(v.rows.size() == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("draws: ranges stay in bounds, sequences and in-turn picks are shared by workers", "[probes]") {
  std::vector<load_value> values{
      make_load_value("id", with({{"range", std::vector<std::string>{"3", "5"}}}), "."),
      make_load_value("n", with({{"sequence", std::int64_t{1}}}), "."),
      make_load_value("c", with({{"list", std::vector<std::string>{"a", "b", "c"}}, {"order", std::string("in_turn")}}), "."),
  };
  auto counters = std::make_unique<std::atomic<std::int64_t>[]>(values.size());
  value_stream one(values, counters.get(), 1);
  value_stream two(values, counters.get(), 2);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto v = one.draw(0);
    CHECK(v >= 3);
    CHECK(v <= 5);
    seen.insert(v);
  }
  CHECK(seen == std::set<std::int64_t>{3, 4, 5});
  std::set<std::int64_t> numbers;
  for (int i = 0; i < 10; ++i) {
    numbers.insert(one.draw(1));
    numbers.insert(two.draw(1));
  }
  CHECK(numbers.size() == 20);  // never the same number twice, across workers
  CHECK(*numbers.begin() == 1);
  CHECK(one.draw(2) == 0);
  CHECK(two.draw(2) == 1);
  CHECK(one.draw(2) == 2);
  CHECK(two.draw(2) == 0);  // wraps around

  // The same seed draws the same values.
  auto counters_again = std::make_unique<std::atomic<std::int64_t>[]>(values.size());
  value_stream a(values, counters_again.get(), 7);
  value_stream b(values, counters_again.get(), 7);
  for (int i = 0; i < 50; ++i) CHECK(a.draw(0) == b.draw(0));
}
