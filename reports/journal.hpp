#pragma once
// The journal: one JSON document per run and the source of truth for every report. The engine
// fills these plain structs; the renderers (JUnit, Markdown, HTML) and `faultline diff` read them.
// Times are seconds from the start of the run unless a name says otherwise.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace faultline::reports {

inline constexpr int journal_schema_version = 1;

struct experiment_info {
  std::string name;
  std::string file;
  std::string description;
  std::vector<std::string> tags;
  std::string resolved_yaml;  // the experiment after ${VAR} substitution

  friend bool operator==(const experiment_info&, const experiment_info&) = default;
};

struct environment_info {
  std::string host;
  std::string kernel;             // uname -r
  std::string os;                 // PRETTY_NAME from /etc/os-release
  std::string faultline_version;
  std::map<std::string, std::string> engines;  // step name -> engine that ran it (netem, userspace, proxy)

  friend bool operator==(const environment_info&, const environment_info&) = default;
};

// baseline, fault, recovery, after; plus steady_before (the pre-fault steady-state check).
struct phase_span {
  std::string name;
  double start = 0;
  double end = 0;

  friend bool operator==(const phase_span&, const phase_span&) = default;
};

struct evidence_record {
  bool observed = false;
  std::string summary;
  nlohmann::json details = nlohmann::json::object();

  friend bool operator==(const evidence_record&, const evidence_record&) = default;
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
};

// One analysis window of one series.
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
};

struct series_record {
  std::string name;  // "load" or a probe name
  std::string kind;  // "load" or the probe type
  std::vector<window_point> windows;

  friend bool operator==(const series_record&, const series_record&) = default;
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
};

struct breaker_transition {
  double at = 0;
  std::string from;  // closed, open, half_open
  std::string to;

  friend bool operator==(const breaker_transition&, const breaker_transition&) = default;
};

struct breaker_record {
  std::string source;  // "probe:<name>" or "inferred" (from the load's response classes)
  std::vector<breaker_transition> transitions;
  std::optional<double> time_to_open;   // from fault start
  std::optional<double> time_to_close;  // from the last revert
  std::int64_t flaps = 0;
  std::string cross_check;  // when both sources exist: how the inferred view agreed with the probe

  friend bool operator==(const breaker_record&, const breaker_record&) = default;
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

  friend bool operator==(const expectation_record&, const expectation_record&) = default;
};

struct analysis_record {
  std::vector<phase_stat> phase_stats;
  std::optional<double> mttd;
  std::optional<double> mttr;
  bool recovered = false;
  std::optional<breaker_record> breaker;
  std::string sla_tier;  // highest tier achieved in the fault phase: none, bronze, silver, gold, platinum
  double score = 0;      // 0..100
  std::vector<expectation_record> expectations;

  friend bool operator==(const analysis_record&, const analysis_record&) = default;
};

struct verdict_record {
  std::string result;  // passed, failed, aborted, not_steady, error
  int exit_code = 0;
  std::string reason;  // one line: what decided the verdict

  friend bool operator==(const verdict_record&, const verdict_record&) = default;
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
  nlohmann::json timeline;  // the full Timeline, as probes serialises it (lossless)
  // Load generators' own counters by series name ("load.websocket": sessions by outcome class,
  // messages); empty when none reports any.
  nlohmann::json load_stats = nlohmann::json::object();
  analysis_record analysis;
  verdict_record verdict;

  friend bool operator==(const journal&, const journal&) = default;
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
