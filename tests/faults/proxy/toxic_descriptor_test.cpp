// The toxic descriptors, each type's one declaration. A table generated from them feeds the same
// values to an experiment (the YAML loader, as `faultline validate` reads it) and to the control
// API and checks that both accept or refuse each value alike, end with the same settings and
// take the same defaults; and the attribute tables of docs/proxy.md and docs/protocol-faults.md
// must say what the descriptors say.
#include "core/units.hpp"
#include "engine/config_error.hpp"
#include "engine/loader.hpp"
#include "faults/proxy/latency.hpp"
#include "faults/proxy/toxic_registry.hpp"
#include "tests/support/command.hpp"
#include "tests/support/test_catalogue.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fp = faultline::proxy;
using faultline::param_kind;
using faultline::param_value;
using std::chrono::nanoseconds;

namespace {

const fp::toxic_registry& toxics() {
  static const fp::toxic_registry registry = [] {
    fp::toxic_registry r;
    fp::register_builtin_toxics(r);
    return r;
  }();
  return registry;
}

// Values to try for a parameter, in canonical units, from its declaration: the bounds, just past
// them, values inside, each choice and one that is not, and text that some toxics refuse. Only
// values the control API can write (whole numbers in its unit), so both doors can be asked.
std::vector<param_value> candidates(const fp::toxic_param& tp) {
  const auto& s = tp.spec;
  std::vector<param_value> out;
  switch (s.kind) {
    case param_kind::duration: {
      const auto max = nanoseconds(static_cast<std::int64_t>(*s.max));
      for (auto d : {nanoseconds(0), nanoseconds(1'000'000), nanoseconds(250'000'000), nanoseconds(2'000'000'000), max,
                     max + nanoseconds(1'000'000'000), nanoseconds(-1'000'000)})
        out.emplace_back(d);
      if (tp.unit == fp::api_unit::microseconds) out.emplace_back(nanoseconds(250'000));
      break;
    }
    case param_kind::size: {
      const auto min = static_cast<std::int64_t>(*s.min), max = static_cast<std::int64_t>(*s.max);
      for (auto n : {min, min + 1, std::int64_t{10}, std::int64_t{1024}, max, max + 1, min - 1}) out.emplace_back(n);
      break;
    }
    case param_kind::bandwidth:
      for (auto r : {0.0, 1e3, 1e6, *s.max, *s.max + 1e6, -1e3}) out.emplace_back(r);
      break;
    case param_kind::choice:
      for (const auto& c : s.choices) out.emplace_back(c);
      out.emplace_back(std::string("nope"));
      break;
    case param_kind::text:
      for (const char* t : {"", "x", "40001", "4001", "a(b", "ERR custom", "session:*"}) out.emplace_back(std::string(t));
      break;
    case param_kind::text_list:
      for (auto l : std::vector<std::vector<std::string>>{{}, {"select"}, {"selekt"}, {"GET"}, {"GET", "MGET"}, {"SET"}, {"two words"}})
        out.emplace_back(l);
      break;
    default: FAIL("no candidates for a " << faultline::to_string(s.kind) << " parameter: add them here");
  }
  return out;
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The value as an experiment writes it.
std::string yaml_of(const faultline::param_spec& s, const param_value& v) {
  if (const auto* text = std::get_if<std::string>(&v)) return quoted(*text);
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) {
    std::string out = "[";
    for (std::size_t i = 0; i < list->size(); ++i) out += (i ? ", " : "") + quoted((*list)[i]);
    return out + "]";
  }
  return faultline::format_param(s.kind, v);
}

// The value as a control API client writes it, in the attribute's unit. Written here, not taken
// from the descriptor, so a wrong unit there shows.
nlohmann::json api_of(const fp::toxic_param& tp, const param_value& v) {
  if (const auto* d = std::get_if<nanoseconds>(&v)) return d->count() / (tp.unit == fp::api_unit::microseconds ? 1'000 : 1'000'000);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* r = std::get_if<double>(&v)) return static_cast<std::int64_t>(*r / 1000);  // KB/s
  if (const auto* text = std::get_if<std::string>(&v)) return *text;
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) return *list;
  FAIL("no API form for this value");
  return nullptr;
}

struct outcome {
  bool accepted = false;
  std::string attributes;  // the settings, as the API writes them
  std::string error;
};

using values = std::vector<std::pair<const fp::toxic_param*, param_value>>;

outcome through_experiment(const fp::toxic_descriptor& d, const values& given) {
  std::string step = fmt::format("    - {{ at: 0s, for: 5s, fault: {}, target: p", d.name);
  for (const auto& [tp, v] : given) step += fmt::format(", {}: {}", tp->spec.name, yaml_of(tp->spec, v));
  const auto yaml = fmt::format("version: 1\nname: t\nproxies:\n  p: {{ listen: 127.0.0.1:0, upstream: 127.0.0.1:1, protocol: {} }}\n"
                                "timeline:\n  steps:\n{} }}\n",
                                d.protocol.empty() ? "tcp" : d.protocol, step);
  outcome out;
  try {
    auto x = faultline::engine::parse_experiment(yaml, "t.yaml", faultline::test::builtin_catalogue(), {});
    out.attributes = d.create(x.timeline.steps.at(0).parameters)->attributes().dump();
    out.accepted = true;
  } catch (const faultline::engine::config_error& e) {
    out.error = e.what();
  }
  return out;
}

outcome through_api(const fp::toxic_descriptor& d, const values& given) {
  auto attributes = nlohmann::json::object();
  for (const auto& [tp, v] : given) attributes[tp->spec.name] = api_of(*tp, v);
  outcome out;
  try {
    out.attributes = d.parse(attributes)->attributes().dump();
    out.accepted = true;
  } catch (const fp::attribute_error& e) {
    out.error = e.what();
  }
  return out;
}

// A value for each required parameter that the API accepts, so the others can be tried alone.
values required_samples(const fp::toxic_descriptor& d) {
  values out;
  for (const auto& tp : d.params) {
    if (!tp.spec.required) continue;
    bool found = false;
    for (const auto& v : candidates(tp)) {
      auto with = out;
      with.emplace_back(&tp, v);
      if (through_api(d, with).accepted) {
        out = with;
        found = true;
        break;
      }
    }
    INFO(d.name << "." << tp.spec.name);
    REQUIRE(found);
  }
  return out;
}

void check_same(const fp::toxic_descriptor& d, const values& given, const std::string& what) {
  const auto yaml = through_experiment(d, given);
  const auto api = through_api(d, given);
  INFO(d.name << ": " << what << "\nexperiment: " << (yaml.accepted ? yaml.attributes : yaml.error)
              << "\ncontrol API: " << (api.accepted ? api.attributes : api.error));
  CHECK(yaml.accepted == api.accepted);
  if (yaml.accepted && api.accepted) CHECK(yaml.attributes == api.attributes);
}

// The cells of a markdown table row, trimmed.
std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t at = 1;
  for (auto bar = line.find('|', at); bar != std::string::npos; at = bar + 1, bar = line.find('|', at)) {
    auto cell = line.substr(at, bar - at);
    auto first = cell.find_first_not_of(' '), last = cell.find_last_not_of(' ');
    cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
  }
  return cells;
}

// Markdown table rows (cells trimmed) under a header row equal to `header`.
std::vector<std::vector<std::string>> table_rows(const std::string& file, const std::string& header) {
  std::ifstream in(faultline::test::source_dir() + "/" + file);
  REQUIRE(in);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == header) {
      inside = true;
      std::getline(in, line);  // |---|---|
      continue;
    }
    if (!inside) continue;
    if (line.rfind('|', 0) != 0) {
      inside = false;
      continue;
    }
    rows.push_back(cells_of(line));
  }
  return rows;
}

std::string code(const std::string& text) { return "`" + text + "`"; }

bool empty_value(const param_value& v) {
  if (const auto* text = std::get_if<std::string>(&v)) return text->empty();
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) return list->empty();
  return false;
}

// What the docs' attribute tables say of a parameter: experiment value, API unit, default, range.
std::vector<std::string> documented(const fp::toxic_descriptor& d, const fp::toxic_param& tp) {
  const auto& s = tp.spec;
  std::string experiment = faultline::to_string(s.kind);
  if (s.kind == param_kind::choice) {
    experiment.clear();
    for (const auto& c : s.choices) experiment += (experiment.empty() ? "" : ", ") + code(c);
  }
  std::string api = fp::to_string(tp.unit);
  if (tp.unit == fp::api_unit::plain) api = s.kind == param_kind::text_list ? "array or comma-separated string" : "string";
  std::string fallback = s.required ? "(required)" : empty_value(*s.default_value) ? "(none)" : code(format_param(s.kind, *s.default_value));
  std::string range;
  if (s.min && s.max) {
    auto bound = [&](double x) -> param_value {
      if (s.kind == param_kind::duration) return nanoseconds(static_cast<std::int64_t>(x));
      if (s.kind == param_kind::size) return static_cast<std::int64_t>(x);
      return x;
    };
    range = format_param(s.kind, bound(*s.min)) + " to " + format_param(s.kind, bound(*s.max));
  }
  return {code(d.name), code(s.name), experiment, api, fallback, range};
}

void check_attribute_table(const std::string& file, bool protocol) {
  const auto rows = table_rows(file, "| toxic | parameter | experiment | API | default | range |");
  INFO(file);
  REQUIRE_FALSE(rows.empty());
  std::map<std::string, std::vector<std::string>> in_docs;
  for (const auto& r : rows) {
    REQUIRE(r.size() == 6);
    in_docs[r[0] + " " + r[1]] = r;
  }
  std::set<std::string> declared;
  for (const auto& [name, d] : toxics().types()) {
    if (d->protocol.empty() == protocol) continue;
    for (const auto& tp : d->params) {
      auto expected = documented(*d, tp);
      auto key = expected[0] + " " + expected[1];
      declared.insert(key);
      INFO(key);
      REQUIRE(in_docs.contains(key));
      CHECK(in_docs[key] == expected);
    }
  }
  for (const auto& [key, row] : in_docs) {
    INFO(key << " is in the docs but no toxic declares it");
    CHECK(declared.contains(key));
  }
}

}  // namespace

TEST_CASE("every toxic parameter is accepted or refused alike by experiments and the control API", "[faults][proxy]") {
  std::size_t tried = 0;
  for (const auto& [name, d] : toxics().types()) {
    if (d->api_only) continue;
    const auto samples = required_samples(*d);
    check_same(*d, samples, "only the required parameters: every default");
    ++tried;
    for (const auto& [required, value] : samples) {
      values without;
      for (const auto& s : samples)
        if (s.first != required) without.push_back(s);
      check_same(*d, without, "without the required " + required->spec.name);
    }
    for (const auto& tp : d->params) {
      for (const auto& v : candidates(tp)) {
        values given;
        for (const auto& s : samples)
          if (s.first != &tp) given.push_back(s);
        given.emplace_back(&tp, v);
        check_same(*d, given, tp.spec.name + ": " + yaml_of(tp.spec, v));
        ++tried;
      }
    }
  }
  CHECK(tried > 200);
}

TEST_CASE("the control API refuses out-of-range values naming the range", "[faults][proxy]") {
  const auto& latency = *toxics().find("latency");
  CHECK_THROWS_WITH(latency.parse({{"latency", 9223372036854775807LL}}),
                    "attribute 'latency' must be at most 86400000 milliseconds (24h), got 9223372036854775807");
  CHECK_THROWS_WITH(latency.parse({{"jitter", 18446744073709551615ULL}}),
                    "attribute 'jitter' must be at most 86400000 milliseconds (24h), got 18446744073709551615");
  CHECK_THROWS_WITH(latency.parse({{"latency", 1e300}}), "attribute 'latency' must be at most 86400000 milliseconds (24h), got 1e+300");
  CHECK_THROWS_WITH(latency.parse({{"latency", -1}}), "attribute 'latency' must be a whole number of milliseconds (0 or more), got -1");
  CHECK_THROWS_WITH(latency.parse({{"latency", "100"}}), "attribute 'latency' must be a whole number of milliseconds (0 or more), got \"100\"");
  CHECK(latency.parse({{"latency", 86400000}})->attributes().dump() == R"({"latency":86400000,"jitter":0})");
  CHECK_THROWS_WITH(toxics().find("slicer")->parse({{"average_size", 0}}),
                    "attribute 'average_size' must be a whole number of bytes (1 or more), got 0");
  CHECK_THROWS_WITH(toxics().find("pg_drop")->parse({{"mode", "drop"}}), "attribute 'mode' must be one of reset, close, got \"drop\"");
  CHECK_THROWS_WITH(toxics().find("pg_error")->parse(nlohmann::json::object()), "missing required attribute 'sqlstate' (a string)");
}

TEST_CASE("an update lays the changes over the current settings, which need not be whole API units", "[faults][proxy]") {
  // From an experiment: 1.5 ms is written as a fraction and kept as it is when jitter changes.
  auto current = std::make_shared<fp::latency_toxic>(std::chrono::microseconds(1500), nanoseconds(0));
  auto merged = current->descriptor().merge(*current, {{"jitter", 1}});
  CHECK(merged->attributes().dump() == R"({"latency":1.5,"jitter":1})");
  CHECK_THROWS_AS(current->descriptor().merge(*current, {{"jitter", 2}}), fp::attribute_error);  // more than the latency
}

TEST_CASE("every toxic declaration keeps the rules: a range for each number, one default or required", "[faults][proxy]") {
  for (const auto& [name, d] : toxics().types()) {
    INFO(name);
    CHECK_NOTHROW(d->check());
  }
  fp::toxic_descriptor unbounded = fp::latency_toxic::type_descriptor();
  unbounded.name = "unbounded";
  unbounded.params[0].spec.max.reset();
  fp::toxic_registry r;
  CHECK_THROWS_WITH(r.add(unbounded), "toxic type 'unbounded': numeric parameter 'latency' needs a min and a max");
}

TEST_CASE("docs/proxy.md and docs/protocol-faults.md list every toxic attribute as declared", "[faults][proxy]") {
  check_attribute_table("docs/proxy.md", false);
  check_attribute_table("docs/protocol-faults.md", true);

  // The per-fault tables of docs/protocol-faults.md give defaults too: they must agree.
  std::size_t checked = 0;
  std::ifstream in(faultline::test::source_dir() + "/docs/protocol-faults.md");
  std::string line, heading;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) heading = line;
    if (line == "| parameter | default | meaning |") {
      in_table = true;
      continue;
    }
    if (!in_table || line.rfind("|---", 0) == 0) continue;
    if (line.rfind('|', 0) != 0) {
      in_table = false;
      continue;
    }
    const auto cells = cells_of(line);
    const auto param = cells.at(0).substr(1, cells.at(0).size() - 2);
    // Under "### `pg_error`" a table speaks of pg_error; under "### Choosing queries" of every
    // toxic with that parameter.
    const fp::toxic_descriptor* named = nullptr;
    for (const auto& [name, d] : toxics().types())
      if (heading.find(code(name)) != std::string::npos) named = d;
    for (const auto& [name, d] : toxics().types()) {
      const auto* tp = d->find(param);
      const bool speaks_of = named ? named == d : heading.find("Choosing") != std::string::npos;
      if (!tp || d->protocol.empty() || !speaks_of) continue;
      INFO(heading << ": " << line << " (" << name << ")");
      const auto& s = tp->spec;
      if (s.required) CHECK(cells.at(1) == "(required)");
      else if (empty_value(*s.default_value)) CHECK(cells.at(1) != "(required)");
      else CHECK(cells.at(1) == code(format_param(s.kind, *s.default_value)));
      ++checked;
    }
  }
  CHECK(checked >= 10);
}
