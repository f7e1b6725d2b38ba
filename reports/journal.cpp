#include "reports/journal.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace faultline::reports {

using nlohmann::json;

namespace {

// ---- writing ---------------------------------------------------------------------------------
// Absent optionals are left out of the document; the reader takes a missing key or null as absent.

void put(json& obj, const char* key, const std::optional<double>& v) {
  if (v) obj[key] = *v;
}

json latency_json(const std::optional<double>& min, const std::optional<double>& mean,
                  const std::optional<double>& p50, const std::optional<double>& p75,
                  const std::optional<double>& p90, const std::optional<double>& p95,
                  const std::optional<double>& p99, const std::optional<double>& p999,
                  const std::optional<double>& max) {
  json out = json::object();
  put(out, "min", min);
  put(out, "mean", mean);
  put(out, "p50", p50);
  put(out, "p75", p75);
  put(out, "p90", p90);
  put(out, "p95", p95);
  put(out, "p99", p99);
  put(out, "p999", p999);
  put(out, "max", max);
  return out;
}

json window_json(const window_point& w) {
  json out = latency_json(w.min, w.mean, w.p50, w.p75, w.p90, w.p95, w.p99, w.p999, w.max);
  out["start"] = w.start;
  out["count"] = w.count;
  out["errors"] = w.errors;
  out["fast_failures"] = w.fast_failures;
  out["outcomes"] = w.outcomes;
  put(out, "value", w.value);
  return out;
}

json phase_stat_json(const phase_stat& s) {
  json out = latency_json(s.min, s.mean, s.p50, s.p75, s.p90, s.p95, s.p99, s.p999, s.max);
  out["series"] = s.series;
  out["phase"] = s.phase;
  out["count"] = s.count;
  out["errors"] = s.errors;
  out["error_rate"] = s.error_rate;
  out["availability"] = s.availability;
  out["rps"] = s.rps;
  put(out, "p95_ratio", s.p95_ratio);
  put(out, "error_rate_delta", s.error_rate_delta);
  return out;
}

json breaker_json(const breaker_record& b) {
  json out;
  out["source"] = b.source;
  out["transitions"] = json::array();
  for (const auto& t : b.transitions) out["transitions"].push_back({{"at", t.at}, {"from", t.from}, {"to", t.to}});
  put(out, "time_to_open", b.time_to_open);
  put(out, "time_to_close", b.time_to_close);
  out["flaps"] = b.flaps;
  out["cross_check"] = b.cross_check;
  return out;
}

json expectation_json(const expectation_record& e) {
  json out;
  out["name"] = e.name;
  out["description"] = e.description;
  out["target"] = e.target;
  out["measured"] = e.measured;
  put(out, "measured_value", e.measured_value);
  out["met"] = e.met;
  out["grade"] = e.grade;
  out["weight"] = e.weight;
  return out;
}

json fault_json(const fault_record& f) {
  json out;
  out["step"] = f.step;
  out["type"] = f.type;
  out["target"] = f.target;
  out["action"] = f.action;
  out["params"] = f.params;
  put(out, "injected_at", f.injected_at);
  put(out, "reverted_at", f.reverted_at);
  out["engine"] = f.engine;
  out["evidence"] = {{"observed", f.evidence.observed}, {"summary", f.evidence.summary}, {"details", f.evidence.details}};
  out["error"] = f.error;
  out["output"] = f.output;
  return out;
}

// ---- reading ---------------------------------------------------------------------------------
// A view of one JSON object that knows its path in the document, so every error names the field.

const char* type_name(const json& v) { return v.type_name(); }

class object_reader {
public:
  object_reader(const json& node, std::string path) : node_(node), path_(std::move(path)) {
    if (!node_.is_object()) fail_type(path_, "an object", node_);
  }

  std::string at(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

  const json& required(std::string_view key) const {
    auto it = node_.find(key);
    if (it == node_.end()) throw journal_error(fmt::format("missing field '{}'", at(key)));
    return *it;
  }
  const json* optional(std::string_view key) const {
    auto it = node_.find(key);
    if (it == node_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::string string(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_string()) fail_type(at(key), "a string", v);
    return v.get<std::string>();
  }
  bool boolean(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_boolean()) fail_type(at(key), "true or false", v);
    return v.get<bool>();
  }
  double number(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_number()) fail_type(at(key), "a number", v);
    return v.get<double>();
  }
  std::optional<double> maybe_number(std::string_view key) const {
    const auto* v = optional(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail_type(at(key), "a number or null", *v);
    return v->get<double>();
  }
  std::int64_t integer(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_number_integer()) fail_type(at(key), "an integer", v);
    return v.get<std::int64_t>();
  }
  std::uint64_t count(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
      fail_type(at(key), "a non-negative integer", v);
    return v.get<std::uint64_t>();
  }
  std::vector<std::string> strings(std::string_view key) const {
    const auto& v = array(key);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) fail_type(fmt::format("{}[{}]", at(key), i), "a string", v[i]);
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
  std::map<std::string, std::string> string_map(std::string_view key) const {
    object_reader m(required(key), at(key));
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : m.node_.items()) out[k] = m.string(k);
    return out;
  }
  std::map<std::string, std::uint64_t> count_map(std::string_view key) const {
    object_reader m(required(key), at(key));
    std::map<std::string, std::uint64_t> out;
    for (const auto& [k, v] : m.node_.items()) out[k] = m.count(k);
    return out;
  }
  const json& array(std::string_view key) const {
    const auto& v = required(key);
    if (!v.is_array()) fail_type(at(key), "an array", v);
    return v;
  }
  object_reader object(std::string_view key) const { return object_reader(required(key), at(key)); }

  [[noreturn]] static void fail_type(const std::string& path, const char* expected, const json& got) {
    throw journal_error(fmt::format("field '{}' must be {}, not {}", path, expected, type_name(got)));
  }

private:
  const json& node_;
  std::string path_;
};

template <typename T, typename Read>
std::vector<T> read_array(const object_reader& r, std::string_view key, Read read) {
  const auto& items = r.array(key);
  std::vector<T> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) out.push_back(read(object_reader(items[i], fmt::format("{}[{}]", r.at(key), i))));
  return out;
}

struct latency_fields {
  std::optional<double> min, mean, p50, p75, p90, p95, p99, p999, max;
};

latency_fields read_latency(const object_reader& r) {
  return {r.maybe_number("min"), r.maybe_number("mean"), r.maybe_number("p50"),
          r.maybe_number("p75"), r.maybe_number("p90"),  r.maybe_number("p95"),
          r.maybe_number("p99"), r.maybe_number("p999"), r.maybe_number("max")};
}

window_point read_window(const object_reader& r) {
  window_point w;
  w.start = r.number("start");
  w.count = r.count("count");
  w.errors = r.count("errors");
  w.fast_failures = r.count("fast_failures");
  w.outcomes = r.count_map("outcomes");
  auto l = read_latency(r);
  w.min = l.min; w.mean = l.mean; w.p50 = l.p50; w.p75 = l.p75; w.p90 = l.p90;
  w.p95 = l.p95; w.p99 = l.p99; w.p999 = l.p999; w.max = l.max;
  w.value = r.maybe_number("value");
  return w;
}

phase_stat read_phase_stat(const object_reader& r) {
  phase_stat s;
  s.series = r.string("series");
  s.phase = r.string("phase");
  s.count = r.count("count");
  s.errors = r.count("errors");
  s.error_rate = r.number("error_rate");
  s.availability = r.number("availability");
  s.rps = r.number("rps");
  auto l = read_latency(r);
  s.min = l.min; s.mean = l.mean; s.p50 = l.p50; s.p75 = l.p75; s.p90 = l.p90;
  s.p95 = l.p95; s.p99 = l.p99; s.p999 = l.p999; s.max = l.max;
  s.p95_ratio = r.maybe_number("p95_ratio");
  s.error_rate_delta = r.maybe_number("error_rate_delta");
  return s;
}

breaker_record read_breaker(const object_reader& r) {
  breaker_record b;
  b.source = r.string("source");
  b.transitions = read_array<breaker_transition>(r, "transitions", [](const object_reader& t) {
    return breaker_transition{t.number("at"), t.string("from"), t.string("to")};
  });
  b.time_to_open = r.maybe_number("time_to_open");
  b.time_to_close = r.maybe_number("time_to_close");
  b.flaps = r.integer("flaps");
  b.cross_check = r.string("cross_check");
  return b;
}

expectation_record read_expectation(const object_reader& r) {
  expectation_record e;
  e.name = r.string("name");
  e.description = r.string("description");
  e.target = r.string("target");
  e.measured = r.string("measured");
  e.measured_value = r.maybe_number("measured_value");
  e.met = r.boolean("met");
  e.grade = r.number("grade");
  e.weight = r.number("weight");
  return e;
}

fault_record read_fault(const object_reader& r) {
  fault_record f;
  f.step = r.string("step");
  f.type = r.string("type");
  f.target = r.string("target");
  f.action = r.boolean("action");
  f.params = r.string_map("params");
  f.injected_at = r.maybe_number("injected_at");
  f.reverted_at = r.maybe_number("reverted_at");
  f.engine = r.string("engine");
  auto ev = r.object("evidence");
  f.evidence.observed = ev.boolean("observed");
  f.evidence.summary = ev.string("summary");
  const auto& details = ev.required("details");
  if (!details.is_object()) object_reader::fail_type(ev.at("details"), "an object", details);
  f.evidence.details = details;
  f.error = r.string("error");
  f.output = r.string("output");
  return f;
}

}  // namespace

json to_json(const journal& j) {
  json doc;
  doc["schema_version"] = j.schema_version;
  doc["run_id"] = j.run_id;
  doc["experiment"] = {{"name", j.experiment.name},
                       {"file", j.experiment.file},
                       {"description", j.experiment.description},
                       {"tags", j.experiment.tags},
                       {"resolved_yaml", j.experiment.resolved_yaml}};
  doc["environment"] = {{"host", j.environment.host},
                        {"kernel", j.environment.kernel},
                        {"os", j.environment.os},
                        {"faultline_version", j.environment.faultline_version},
                        {"engines", j.environment.engines}};
  doc["started_at"] = j.started_at;
  doc["ended_at"] = j.ended_at;
  doc["window"] = j.window;
  doc["phases"] = json::array();
  for (const auto& p : j.phases) doc["phases"].push_back({{"name", p.name}, {"start", p.start}, {"end", p.end}});
  doc["faults"] = json::array();
  for (const auto& f : j.faults) doc["faults"].push_back(fault_json(f));
  doc["series"] = json::array();
  for (const auto& s : j.series) {
    json windows = json::array();
    for (const auto& w : s.windows) windows.push_back(window_json(w));
    doc["series"].push_back({{"name", s.name}, {"kind", s.kind}, {"windows", std::move(windows)}});
  }
  doc["timeline"] = j.timeline;
  if (!j.load_stats.empty()) doc["load_stats"] = j.load_stats;
  json analysis;
  analysis["phase_stats"] = json::array();
  for (const auto& s : j.analysis.phase_stats) analysis["phase_stats"].push_back(phase_stat_json(s));
  put(analysis, "mttd", j.analysis.mttd);
  put(analysis, "mttr", j.analysis.mttr);
  analysis["recovered"] = j.analysis.recovered;
  if (j.analysis.breaker) analysis["breaker"] = breaker_json(*j.analysis.breaker);
  analysis["sla_tier"] = j.analysis.sla_tier;
  analysis["score"] = j.analysis.score;
  analysis["expectations"] = json::array();
  for (const auto& e : j.analysis.expectations) analysis["expectations"].push_back(expectation_json(e));
  doc["analysis"] = std::move(analysis);
  doc["verdict"] = {{"result", j.verdict.result}, {"exit_code", j.verdict.exit_code}, {"reason", j.verdict.reason}};
  return doc;
}

journal journal_from_json(const json& doc) {
  if (!doc.is_object()) throw journal_error(fmt::format("not a faultline journal: the document is {}, not an object", type_name(doc)));
  auto version = doc.find("schema_version");
  if (version == doc.end()) throw journal_error("not a faultline journal: it has no 'schema_version' field");
  if (!version->is_number_integer())
    throw journal_error(fmt::format("not a faultline journal: 'schema_version' is {}, not an integer", type_name(*version)));
  if (version->get<std::int64_t>() != journal_schema_version)
    throw journal_error(fmt::format(
        "journal schema version {} is not supported: this faultline reads schema version {} only "
        "(render it with the faultline release that wrote it, or run the experiment again)",
        version->get<std::int64_t>(), journal_schema_version));

  object_reader r(doc, "");
  journal j;
  j.schema_version = journal_schema_version;
  j.run_id = r.string("run_id");
  auto x = r.object("experiment");
  j.experiment.name = x.string("name");
  j.experiment.file = x.string("file");
  j.experiment.description = x.string("description");
  j.experiment.tags = x.strings("tags");
  j.experiment.resolved_yaml = x.string("resolved_yaml");
  auto env = r.object("environment");
  j.environment.host = env.string("host");
  j.environment.kernel = env.string("kernel");
  j.environment.os = env.string("os");
  j.environment.faultline_version = env.string("faultline_version");
  j.environment.engines = env.string_map("engines");
  j.started_at = r.string("started_at");
  j.ended_at = r.string("ended_at");
  j.window = r.number("window");
  if (!(j.window > 0)) throw journal_error(fmt::format("field 'window' must be a positive number of seconds, not {}", j.window));
  j.phases = read_array<phase_span>(r, "phases", [](const object_reader& p) {
    return phase_span{p.string("name"), p.number("start"), p.number("end")};
  });
  j.faults = read_array<fault_record>(r, "faults", read_fault);
  j.series = read_array<series_record>(r, "series", [](const object_reader& s) {
    return series_record{s.string("name"), s.string("kind"), read_array<window_point>(s, "windows", read_window)};
  });
  j.timeline = r.required("timeline");
  if (const auto* stats = r.optional("load_stats")) {
    if (!stats->is_object()) object_reader::fail_type(r.at("load_stats"), "an object", *stats);
    j.load_stats = *stats;
  }
  auto a = r.object("analysis");
  j.analysis.phase_stats = read_array<phase_stat>(a, "phase_stats", read_phase_stat);
  j.analysis.mttd = a.maybe_number("mttd");
  j.analysis.mttr = a.maybe_number("mttr");
  j.analysis.recovered = a.boolean("recovered");
  if (const auto* b = a.optional("breaker")) j.analysis.breaker = read_breaker(object_reader(*b, a.at("breaker")));
  j.analysis.sla_tier = a.string("sla_tier");
  j.analysis.score = a.number("score");
  j.analysis.expectations = read_array<expectation_record>(a, "expectations", read_expectation);
  auto v = r.object("verdict");
  j.verdict.result = v.string("result");
  j.verdict.exit_code = static_cast<int>(v.integer("exit_code"));
  j.verdict.reason = v.string("reason");
  return j;
}

void write_journal(const journal& j, const std::string& path) {
  // Written next to its final name and renamed, so a reader never sees half a journal.
  std::filesystem::path target(path);
  auto tmp = target;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw journal_error(fmt::format("{}: cannot write the journal: {}", path, std::strerror(errno)));
    // Invalid UTF-8 (say, in an action's output) is replaced rather than failing the run's record.
    out << to_json(j).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    out.flush();
    if (!out) throw journal_error(fmt::format("{}: cannot write the journal: {}", path, std::strerror(errno)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw journal_error(fmt::format("{}: cannot write the journal: {}", path, ec.message()));
  }
}

journal read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw journal_error(fmt::format("{}: cannot read the journal: {}", path, std::strerror(errno)));
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw journal_error(fmt::format("{}: not a faultline journal: invalid JSON at byte {}", path, e.byte));
  }
  try {
    return journal_from_json(doc);
  } catch (const journal_error& e) {
    throw journal_error(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace faultline::reports
