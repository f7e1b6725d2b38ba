#include "reports/junit.hpp"

#include "reports/format.hpp"
#include "reports/run_summary.hpp"

#include <fmt/format.h>

#include <regex>

namespace faultline::reports {

namespace {

// Ant's schema wants a timestamp without a time zone; the journal's is UTC, so the zone is dropped.
std::string junit_timestamp(const std::string& iso) {
  static const std::regex pattern(R"(^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}))");
  std::smatch m;
  if (std::regex_search(iso, m, pattern)) return m[1].str();
  return "1970-01-01T00:00:00";
}

std::string seconds_attr(double s) { return fmt::format("{:.3f}", s < 0 ? 0.0 : s); }

std::string expectation_case_name(const expectation_record& e) {
  return e.description.empty() ? e.name : e.name + ": " + e.description;
}

void append_suite(std::string& out, const journal& j, std::size_t id) {
  auto summary = summarize(j);
  const std::string classname = "faultline." + j.experiment.name;
  // The verdict case fails with the run: a failed run may fail for a reason no expectation names
  // (a fault with no observable effect), and an aborted one has nothing else to show.
  bool verdict_error = j.verdict.result != "passed" && j.verdict.result != "failed";
  bool verdict_failure = j.verdict.result == "failed";
  std::size_t failures = (summary.expectations - summary.expectations_met) + (verdict_failure ? 1 : 0);
  std::size_t errors = verdict_error ? 1 : 0;
  std::size_t tests = summary.expectations + 1;

  out += fmt::format(
      "  <testsuite name=\"{}\" package=\"faultline\" id=\"{}\" timestamp=\"{}\" hostname=\"{}\" tests=\"{}\" "
      "failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{}\">\n",
      xml_escape(j.experiment.name.empty() ? "unnamed" : j.experiment.name), id, junit_timestamp(j.started_at),
      xml_escape(j.environment.host.empty() ? "localhost" : j.environment.host), tests, failures, errors,
      seconds_attr(summary.duration));

  out += "    <properties>\n";
  auto property = [&](std::string_view name, const std::string& value) {
    out += fmt::format("      <property name=\"faultline.{}\" value=\"{}\"/>\n", name, xml_escape(value));
  };
  property("verdict", j.verdict.result);
  property("exit_code", std::to_string(j.verdict.exit_code));
  property("score", format_score(j.analysis.score));
  property("sla_tier", j.analysis.sla_tier);
  property("mttd", format_seconds_within(j.analysis.mttd, j.analysis.mttd_resolution));
  property("mttr", format_seconds_within(j.analysis.mttr, j.analysis.mttr_resolution));
  if (const auto& b = j.analysis.breaker) {
    property("breaker_time_to_open", format_seconds_within(b->time_to_open, b->time_to_open_resolution));
    property("breaker_time_to_close", format_seconds_within(b->time_to_close, b->time_to_close_resolution));
    property("breaker_flaps", std::to_string(b->flaps));
  }
  property("recovered", j.analysis.recovered ? "true" : "false");
  property("run_id", j.run_id);
  property("file", j.experiment.file);
  property("faultline_version", j.environment.faultline_version);
  out += "    </properties>\n";

  for (const auto& e : j.analysis.expectations) {
    auto name = xml_escape(expectation_case_name(e));
    if (e.met) {
      out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"0.000\"/>\n", name, xml_escape(classname));
      continue;
    }
    auto message = fmt::format("measured {}, target {}", e.measured, e.target);
    auto body = fmt::format("{}\nmeasured: {}\ntarget:   {}\ngrade:    {}% (weight {})", expectation_case_name(e),
                            e.measured, e.target, format_number(e.grade * 100, 1), format_number(e.weight));
    out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"0.000\">\n", name, xml_escape(classname));
    out += fmt::format("      <failure type=\"expectation_missed\" message=\"{}\">{}</failure>\n", xml_escape(message),
                       xml_escape(body));
    out += "    </testcase>\n";
  }

  auto verdict_name = fmt::format("verdict: {}", j.verdict.result.empty() ? "unknown" : j.verdict.result);
  out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"", xml_escape(verdict_name),
                     xml_escape(classname), seconds_attr(summary.duration));
  if (verdict_failure || verdict_error) {
    auto message = fmt::format("{} (score {}, tier {})", j.verdict.reason, format_score(j.analysis.score),
                               j.analysis.sla_tier.empty() ? "none" : j.analysis.sla_tier);
    out += fmt::format(">\n      <{0} type=\"{1}\" message=\"{2}\">{3}</{0}>\n    </testcase>\n",
                       verdict_error ? "error" : "failure", xml_escape(j.verdict.result), xml_escape(message),
                       xml_escape(j.verdict.reason));
  } else {
    out += "/>\n";
  }

  std::string system_out = fmt::format("{} {}: {} (score {}, SLA tier {}, MTTD {}, MTTR {})\n", j.experiment.name,
                                       summary.result_title, j.verdict.reason, format_score(j.analysis.score),
                                       j.analysis.sla_tier.empty() ? "none" : j.analysis.sla_tier,
                                       format_seconds_within(j.analysis.mttd, j.analysis.mttd_resolution),
                                       format_seconds_within(j.analysis.mttr, j.analysis.mttr_resolution));
  for (const auto& e : j.analysis.expectations)
    system_out += fmt::format("  [{}] {}: measured {}, target {}\n", e.met ? "met" : "MISSED", expectation_case_name(e),
                              e.measured, e.target);
  std::string system_err;
  for (const auto& f : j.faults)
    if (!f.error.empty()) system_err += fmt::format("{} ({}): {}\n", f.step, f.type, f.error);
  out += fmt::format("    <system-out>{}</system-out>\n", xml_escape(system_out));
  out += fmt::format("    <system-err>{}</system-err>\n", xml_escape(system_err));
  out += "  </testsuite>\n";
}

}  // namespace

std::string render_junit(std::span<const journal> runs) {
  // <testsuites> carries no attributes: Ant's schema allows none, and CI systems sum the suites.
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  for (std::size_t i = 0; i < runs.size(); ++i) append_suite(out, runs[i], i);
  out += "</testsuites>\n";
  return out;
}

std::string render_junit(const journal& run) { return render_junit(std::span<const journal>(&run, 1)); }

}  // namespace faultline::reports
