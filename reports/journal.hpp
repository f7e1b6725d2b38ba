#pragma once
// The journal: one JSON document per run and the source of truth for every report. The engine
// fills these plain structs; the renderers (JUnit, Markdown, HTML) and `faultline diff` read them.
// Times are seconds from the start of the run unless a name says otherwise. Each struct's
// json_fields() is its JSON form, read and written from that one list (docs/journal.md).

#include "core/json_fields.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace faultline::reports {

// Version 2 stores the windows once, in `timeline`, and derives `series` from it when reading;
// it adds the resolution of every reported time and the Timeline's sample logs (what
// `faultline report --reanalyse` needs). Version 1 journals (windows written out in `series`,
// times per window) are still read (docs/journal.md, "Versions").
inline constexpr int journal_schema_version = 2;
inline constexpr int journal_oldest_schema_version = 1;

// Rules some journal fields meet beyond their JSON type.
inline std::optional<std::string> positive_seconds(const nlohmann::json& v) {
  if (v.get<double>() > 0) return std::nullopt;
  return fmt::format("a positive number of seconds, not {}", v.get<double>());
}
inline std::optional<std::string> an_object(const nlohmann::json& v) {
  if (v.is_object()) return std::nullopt;
  return fmt::format("an object, not {}", v.type_name());
}

struct experiment_info {
  std::string name;
  std::string file;
  std::string description;
  std::vector<std::string> tags;
  std::string resolved_yaml;  // the experiment after ${VAR} substitution

  friend bool operator==(const experiment_info&, const experiment_info&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("name", &experiment_info::name),
                      field("file", &experiment_info::file),
                      field("description", &experiment_info::description),
                      field("tags", &experiment_info::tags),
                      field("resolved_yaml", &experiment_info::resolved_yaml)};
  }
};

struct environment_info {
  std::string host;
  std::string kernel;             // uname -r
  std::string os;                 // PRETTY_NAME from /etc/os-release
  std::string faultline_version;
  std::map<std::string, std::string> engines;  // step name -> engine that ran it (netem, userspace, proxy)

  friend bool operator==(const environment_info&, const environment_info&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("host", &environment_info::host),
                      field("kernel", &environment_info::kernel),
                      field("os", &environment_info::os),
                      field("faultline_version", &environment_info::faultline_version),
                      field("engines", &environment_info::engines)};
  }
};

// baseline, fault, recovery, after; plus steady_before (the pre-fault steady-state check).
struct phase_span {
  std::string name;
  double start = 0;
  double end = 0;

  friend bool operator==(const phase_span&, const phase_span&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("name", &phase_span::name),
                      field("start", &phase_span::start),
                      field("end", &phase_span::end)};
  }
};

struct evidence_record {
  bool observed = false;
  std::string summary;
  nlohmann::json details = nlohmann::json::object();

  friend bool operator==(const evidence_record&, const evidence_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("observed", &evidence_record::observed),
                      field("summary", &evidence_record::summary),
                      field("details", &evidence_record::details, an_object)};
  }
};

struct fault_record {
  std::string step;
  std::string type;
  std::string target;
  bool action = false;
  std::map<std::string, std::string> params;  // as written, e.g. {"latency": "800ms"}
  std::optional<double> injected_at;           // when inject() completed; none if it never ran
  std::optional<double> reverted_at;
  std::string engine;
  evidence_record evidence;
  std::string error;   // why inject or revert failed, if it did
  std::string output;  // an action's captured output (tail)

  friend bool operator==(const fault_record&, const fault_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("step", &fault_record::step),
                      field("type", &fault_record::type),
                      field("target", &fault_record::target),
                      field("action", &fault_record::action),
                      field("params", &fault_record::params),
                      field("injected_at", &fault_record::injected_at),
                      field("reverted_at", &fault_record::reverted_at),
                      field("engine", &fault_record::engine),
                      field("evidence", &fault_record::evidence),
                      field("error", &fault_record::error),
                      field("output", &fault_record::output)};
  }
};

// One analysis window of one series: what reports/windows.hpp derives from a Timeline window.
// Its JSON form is how version 1 journals wrote windows; version 2 stores the Timeline instead.
struct window_point {
  double start = 0;
  std::uint64_t count = 0;
  std::uint64_t errors = 0;
  std::map<std::string, std::uint64_t> outcomes;  // outcome name -> count (non-zero only)
  std::uint64_t fast_failures = 0;                // errors faster than settings.fast_failure
  // Latency in seconds; none when count == 0.
  std::optional<double> min, mean, p50, p75, p90, p95, p99, p999, max;
  std::optional<double> value;                    // last extracted value in the window

  friend bool operator==(const window_point&, const window_point&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("start", &window_point::start),
                      field("count", &window_point::count),
                      field("errors", &window_point::errors),
                      field("outcomes", &window_point::outcomes),
                      field("fast_failures", &window_point::fast_failures),
                      field("min", &window_point::min),
                      field("mean", &window_point::mean),
                      field("p50", &window_point::p50),
                      field("p75", &window_point::p75),
                      field("p90", &window_point::p90),
                      field("p95", &window_point::p95),
                      field("p99", &window_point::p99),
                      field("p999", &window_point::p999),
                      field("max", &window_point::max),
                      field("value", &window_point::value)};
  }
};

// In the JSON, a series entry holds its name, kind and window_count; the windows themselves are
// derived from `timeline` when the journal is read (journal.cpp), so they are stored once.
struct series_record {
  std::string name;  // "load" or a probe name
  std::string kind;  // "load" or the probe type
  std::vector<window_point> windows;
  // Whether its latencies say something about the system under test: false for a probe read for
  // its value (probes::probe_type::latency_is_reading_cost). Absent in journals written before it.
  std::optional<bool> latency_describes_system;

  friend bool operator==(const series_record&, const series_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("name", &series_record::name),
                      field("kind", &series_record::kind),
                      field("latency_describes_system", &series_record::latency_describes_system)};
  }
};

struct phase_stat {
  std::string series;
  std::string phase;
  std::uint64_t count = 0;
  std::uint64_t errors = 0;
  double error_rate = 0;
  double availability = 1;
  double rps = 0;
  std::optional<double> min, mean, p50, p75, p90, p95, p99, p999, max;  // seconds
  // Against the baseline phase of the same series: ratio of p95 and difference of error rate.
  std::optional<double> p95_ratio;
  std::optional<double> error_rate_delta;

  friend bool operator==(const phase_stat&, const phase_stat&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("series", &phase_stat::series),
                      field("phase", &phase_stat::phase),
                      field("count", &phase_stat::count),
                      field("errors", &phase_stat::errors),
                      field("error_rate", &phase_stat::error_rate),
                      field("availability", &phase_stat::availability),
                      field("rps", &phase_stat::rps),
                      field("min", &phase_stat::min),
                      field("mean", &phase_stat::mean),
                      field("p50", &phase_stat::p50),
                      field("p75", &phase_stat::p75),
                      field("p90", &phase_stat::p90),
                      field("p95", &phase_stat::p95),
                      field("p99", &phase_stat::p99),
                      field("p999", &phase_stat::p999),
                      field("max", &phase_stat::max),
                      field("p95_ratio", &phase_stat::p95_ratio),
                      field("error_rate_delta", &phase_stat::error_rate_delta)};
  }
};

struct breaker_transition {
  double at = 0;
  std::string from;  // closed, open, half_open
  std::string to;
  // Absent in version 1 journals (and in journals written before the analysis over samples).
  std::optional<double> resolution;    // it happened within this many seconds around `at`
  std::optional<std::string> seen_by;  // probe, load, probe+load

  friend bool operator==(const breaker_transition&, const breaker_transition&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("at", &breaker_transition::at),
                      field("from", &breaker_transition::from),
                      field("to", &breaker_transition::to),
                      field("resolution", &breaker_transition::resolution),
                      field("seen_by", &breaker_transition::seen_by)};
  }
};

struct breaker_record {
  std::string source;  // "probe:<name>" or "inferred" (from the load's response classes)
  std::vector<breaker_transition> transitions;
  std::optional<double> time_to_open;   // from fault start
  std::optional<double> time_to_open_resolution;
  std::optional<double> time_to_close;  // from the last revert
  std::optional<double> time_to_close_resolution;
  std::int64_t flaps = 0;
  std::string cross_check;  // when both sources exist: how the inferred view agreed with the probe

  friend bool operator==(const breaker_record&, const breaker_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("source", &breaker_record::source),
                      field("transitions", &breaker_record::transitions),
                      field("time_to_open", &breaker_record::time_to_open),
                      field("time_to_open_resolution", &breaker_record::time_to_open_resolution),
                      field("time_to_close", &breaker_record::time_to_close),
                      field("time_to_close_resolution", &breaker_record::time_to_close_resolution),
                      field("flaps", &breaker_record::flaps),
                      field("cross_check", &breaker_record::cross_check)};
  }
};

// How far an expectation's measured value lies from its boundary (docs/analysis.md, "Margins").
struct margin_record {
  std::string quantity;  // what is held against the boundary: "p95 load/fault", "availability load/fault", "mttr", "score"
  std::string unit;      // seconds, fraction, per_second, count, number, bytes, score
  double boundary = 0;
  double margin = 0;     // in `unit`: > 0 on the met side of the boundary, < 0 beyond it
  std::optional<double> low, high;  // the margin's 95 % interval; absent when the figure has no spread to measure
  // What the interval comes from: windows (a bootstrap over the phase's windows), resolution (an
  // event time's), search (a capacity search's precision), runs (across the runs of --repeat).
  std::string basis;
  bool borderline = false;  // the interval spans the boundary: met and missed are both within the noise

  friend bool operator==(const margin_record&, const margin_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("quantity", &margin_record::quantity),
                      field("unit", &margin_record::unit),
                      field("boundary", &margin_record::boundary),
                      field("margin", &margin_record::margin),
                      field("low", &margin_record::low),
                      field("high", &margin_record::high),
                      field("basis", &margin_record::basis),
                      field("borderline", &margin_record::borderline)};
  }
};

struct expectation_record {
  std::string name;      // "sla", "during_fault[0]", "breaker.opens_within", "mttr", "score", ...
  std::string description;  // "load.error_rate < 5% during the fault"
  std::string target;    // "< 5%"
  std::string measured;  // "3.2%", or "not measured: <why>"
  std::optional<double> measured_value;
  bool met = false;
  double grade = 0;   // 0..1, how far it was met
  double weight = 0;  // its weight in the score
  std::vector<margin_record> margins;  // threshold expectations: one per quantity held against a boundary

  bool borderline() const {
    for (const auto& m : margins)
      if (m.borderline) return true;
    return false;
  }

  friend bool operator==(const expectation_record&, const expectation_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("name", &expectation_record::name),
                      field("description", &expectation_record::description),
                      field("target", &expectation_record::target),
                      field("measured", &expectation_record::measured),
                      field("measured_value", &expectation_record::measured_value),
                      field("met", &expectation_record::met),
                      field("grade", &expectation_record::grade),
                      field("weight", &expectation_record::weight),
                      field_omitted_when_empty("margins", &expectation_record::margins)};
  }
};

// A rule judged over a span (a level, a capacity trial): the statistic over the whole span.
struct rule_result {
  std::string rule;      // as written
  bool held = false;
  std::string measured;  // "42.1ms", or "not measured: <why>"

  friend bool operator==(const rule_result&, const rule_result&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("rule", &rule_result::rule),
                      field("held", &rule_result::held),
                      field("measured", &rule_result::measured)};
  }
};

// One level of `load.levels`, over its whole span.
struct level_record {
  std::string name;
  std::string load;  // "500 users" or "800/s"
  double start = 0;
  double end = 0;
  std::uint64_t count = 0;  // answers to requests intended in the level
  double rate = 0;          // count per second of the level
  double error_rate = 0;
  std::optional<double> p50, p95, p99;  // seconds
  std::vector<rule_result> rules;
  bool held = false;  // every rule held

  friend bool operator==(const level_record&, const level_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("name", &level_record::name),
                      field("load", &level_record::load),
                      field("start", &level_record::start),
                      field("end", &level_record::end),
                      field("count", &level_record::count),
                      field("rate", &level_record::rate),
                      field("error_rate", &level_record::error_rate),
                      field("p50", &level_record::p50),
                      field("p95", &level_record::p95),
                      field("p99", &level_record::p99),
                      field("rules", &level_record::rules),
                      field("held", &level_record::held)};
  }
};

// One trial of a capacity search: a constant arrival rate, judged after its warmup.
struct capacity_point {
  double rate = 0;      // intended arrivals per second
  double achieved = 0;  // answers per second over the judged part
  std::uint64_t count = 0;
  double error_rate = 0;
  std::optional<double> p50, p95, p99;  // seconds
  bool held = false;
  std::string broken;  // the first rule that did not hold, as written
  double start = 0;    // the judged part
  double end = 0;

  friend bool operator==(const capacity_point&, const capacity_point&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("rate", &capacity_point::rate),
                      field("achieved", &capacity_point::achieved),
                      field("count", &capacity_point::count),
                      field("error_rate", &capacity_point::error_rate),
                      field("p50", &capacity_point::p50),
                      field("p95", &capacity_point::p95),
                      field("p99", &capacity_point::p99),
                      field("held", &capacity_point::held),
                      field("broken", &capacity_point::broken),
                      field("start", &capacity_point::start),
                      field("end", &capacity_point::end)};
  }
};

// One capacity search: healthy, or while the timeline's faults were active.
struct capacity_search_record {
  std::string condition;  // "healthy" or "under_fault"
  std::string faults;     // under_fault: what was active ("latency on postgres (latency 500ms)")
  std::vector<capacity_point> trials;  // in the order they ran
  double capacity = 0;                 // the highest rate that held; 0 when none did
  std::optional<double> broke_at;      // the lowest rate that did not hold
  bool at_limit = false;               // the search's up_to held
  bool out_of_time = false;            // the time limit ended it before the precision
  std::optional<double> knee;          // where p99 starts to climb

  friend bool operator==(const capacity_search_record&, const capacity_search_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("condition", &capacity_search_record::condition),
                      field("faults", &capacity_search_record::faults),
                      field("trials", &capacity_search_record::trials),
                      field("capacity", &capacity_search_record::capacity),
                      field("broke_at", &capacity_search_record::broke_at),
                      field("at_limit", &capacity_search_record::at_limit),
                      field("out_of_time", &capacity_search_record::out_of_time),
                      field("knee", &capacity_search_record::knee)};
  }
};

struct analysis_record {
  std::vector<phase_stat> phase_stats;
  std::optional<double> mttd;
  std::optional<double> mttd_resolution;
  std::optional<double> mttr;
  std::optional<double> mttr_resolution;
  bool recovered = false;
  std::optional<breaker_record> breaker;
  std::string sla_tier;  // highest tier achieved in the fault phase: none, bronze, silver, gold, platinum
  // The tiers the fault phase's availability and p95 intervals (over its windows) reach:
  // "silver..platinum" when they span a boundary (borderline), else the tier alone.
  std::optional<std::string> sla_tier_range;
  double score = 0;      // 0..100
  std::vector<expectation_record> expectations;
  std::vector<level_record> levels;              // a levels run: one per level, in order
  std::vector<capacity_search_record> capacity;  // a capacity run: healthy, then under fault

  friend bool operator==(const analysis_record&, const analysis_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("phase_stats", &analysis_record::phase_stats),
                      field("mttd", &analysis_record::mttd),
                      field("mttd_resolution", &analysis_record::mttd_resolution),
                      field("mttr", &analysis_record::mttr),
                      field("mttr_resolution", &analysis_record::mttr_resolution),
                      field("recovered", &analysis_record::recovered),
                      field("breaker", &analysis_record::breaker),
                      field("sla_tier", &analysis_record::sla_tier),
                      field("sla_tier_range", &analysis_record::sla_tier_range),
                      field("score", &analysis_record::score),
                      field("expectations", &analysis_record::expectations),
                      field_omitted_when_empty("levels", &analysis_record::levels),
                      field_omitted_when_empty("capacity", &analysis_record::capacity)};
  }
};

struct verdict_record {
  std::string result;  // passed, failed, aborted, not_steady, error
  int exit_code = 0;
  std::string reason;  // one line: what decided the verdict

  friend bool operator==(const verdict_record&, const verdict_record&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("result", &verdict_record::result),
                      field("exit_code", &verdict_record::exit_code),
                      field("reason", &verdict_record::reason)};
  }
};

struct journal {
  int schema_version = journal_schema_version;
  std::string run_id;
  experiment_info experiment;
  environment_info environment;
  std::string started_at;  // ISO 8601 UTC
  std::string ended_at;
  double window = 1;       // analysis window width, seconds
  std::vector<phase_span> phases;
  std::vector<fault_record> faults;
  std::vector<series_record> series;
  nlohmann::json timeline;  // the full Timeline, as probes serialises it (lossless); `series` comes from it
  // Load generators' own counters by series name ("load.websocket": sessions by outcome class,
  // messages); absent when none reports any.
  std::optional<std::map<std::string, nlohmann::json>> load_stats;
  analysis_record analysis;
  verdict_record verdict;

  friend bool operator==(const journal&, const journal&) = default;
  static constexpr auto json_fields() {
    return std::tuple{field("run_id", &journal::run_id),
                      field("experiment", &journal::experiment),
                      field("environment", &journal::environment),
                      field("started_at", &journal::started_at),
                      field("ended_at", &journal::ended_at),
                      field("window", &journal::window, positive_seconds),
                      field("phases", &journal::phases),
                      field("faults", &journal::faults),
                      field("series", &journal::series),
                      field("timeline", &journal::timeline),
                      field("load_stats", &journal::load_stats),
                      field("analysis", &journal::analysis),
                      field("verdict", &journal::verdict)};
  }
};

// A journal that cannot be read: wrong schema version, missing fields. The message says which.
class journal_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

nlohmann::json to_json(const journal& j);
journal journal_from_json(const nlohmann::json& doc);  // throws journal_error
void write_journal(const journal& j, const std::string& path);
journal read_journal(const std::string& path);         // throws journal_error

}  // namespace faultline::reports
