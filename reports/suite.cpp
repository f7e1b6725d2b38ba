#include "reports/suite.hpp"

#include "reports/format.hpp"
#include "reports/html.hpp"
#include "reports/run_summary.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace faultline::reports {

std::size_t suite_summary::count(std::string_view result) const {
  return static_cast<std::size_t>(std::count_if(runs.begin(), runs.end(), [&](const auto& r) { return r.result == result; }));
}

int suite_summary::exit_code() const {
  int code = 0;
  for (const auto& r : runs) code = std::max(code, r.exit_code);
  return code;
}

std::optional<double> suite_summary::mean_score() const {
  if (runs.empty()) return std::nullopt;
  double sum = 0;
  for (const auto& r : runs) sum += r.score;
  return sum / static_cast<double>(runs.size());
}

double suite_summary::duration() const {
  double sum = 0;
  for (const auto& r : runs) sum += r.duration;
  return sum;
}

suite_entry suite_entry_of(const journal& run, std::string report_href, std::string journal_href) {
  auto s = summarize(run);
  suite_entry e;
  e.experiment = run.experiment.name;
  e.description = run.experiment.description;
  e.result = run.verdict.result;
  e.exit_code = run.verdict.exit_code;
  e.reason = run.verdict.reason;
  e.score = run.analysis.score;
  e.sla_tier = run.analysis.sla_tier;
  e.expectations = s.expectations;
  e.expectations_met = s.expectations_met;
  e.mttd = run.analysis.mttd;
  e.mttr = run.analysis.mttr;
  e.recovered = run.analysis.recovered;
  e.duration = s.duration;
  e.started_at = run.started_at;
  e.report_href = std::move(report_href);
  e.journal_href = std::move(journal_href);
  return e;
}

suite_summary summarize_suite(std::string name, std::span<const journal> runs) {
  suite_summary out;
  out.name = std::move(name);
  for (const auto& r : runs) out.runs.push_back(suite_entry_of(r));
  return out;
}

namespace {

std::string result_class(std::string_view result) {
  if (result == "passed") return "passed";
  if (result == "failed") return "failed";
  return "other";
}

std::string headline(const suite_summary& suite) {
  auto passed = suite.count("passed");
  if (passed == suite.runs.size()) return fmt::format("All {} experiments passed", suite.runs.size());
  return fmt::format("{} of {} experiments passed", passed, suite.runs.size());
}

}  // namespace

std::string render_suite_html(const suite_summary& suite) {
  auto passed = suite.count("passed"), failed = suite.count("failed");
  auto other = suite.runs.size() - passed - failed;
  std::string overall = suite.runs.empty() ? "other" : passed == suite.runs.size() ? "passed" : failed > 0 ? "failed" : "other";
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{} · suite · faultline</title>\n<style>", xml_escape(suite.name));
  out += report_stylesheet();
  out += "</style>\n</head>\n<body>\n<main>\n<header>\n<div class=\"brand\">faultline · resilience suite</div>\n";
  out += fmt::format("<h1>{}</h1>\n<div class=\"meta\"><span>{} experiment{}</span><span>ran {}</span></div>\n</header>\n", xml_escape(suite.name),
                     suite.runs.size(), suite.runs.size() == 1 ? "" : "s", format_seconds(suite.duration()));
  out += fmt::format("<section class=\"card verdict {0}\" id=\"verdict\" data-exit-code=\"{1}\">\n<span class=\"badge {0}\">{2}</span>\n<div>\n",
                     overall, suite.exit_code(), overall == "passed" ? "✓ Passed" : overall == "failed" ? "✕ Failed" : "! Incomplete");
  out += fmt::format("<p class=\"verdict-reason\">{}</p>\n", xml_escape(headline(suite)));
  auto mean = suite.mean_score();
  out += fmt::format("<p class=\"verdict-sub\">{} passed · {} failed · {} aborted or not run · mean score {} · exit code {}</p>\n", passed, failed,
                     other, mean ? format_score(*mean) : std::string("—"), suite.exit_code());
  if (!suite.runs.empty()) {
    out += "<div class=\"suite-bar\">";
    for (const auto& r : suite.runs)
      out += fmt::format("<span class=\"{}\" style=\"flex:1\" title=\"{}: {}\"></span>", result_class(r.result), xml_escape(r.experiment),
                         xml_escape(result_title(r.result)));
    out += "</div>\n";
  }
  out += "</div>\n</section>\n";
  out += "<section class=\"card\" id=\"experiments\">\n<h2>Experiments</h2>\n<table>\n<thead><tr><th>Result</th><th>Experiment</th>"
         "<th class=\"num\">Score</th><th>SLA tier</th><th class=\"num\">Expectations</th><th class=\"num\">MTTD</th><th class=\"num\">MTTR</th>"
         "<th class=\"num\">Ran</th></tr></thead>\n<tbody>\n";
  for (const auto& r : suite.runs) {
    std::string name = xml_escape(r.experiment);
    if (!r.report_href.empty()) name = fmt::format("<a href=\"{}\">{}</a>", xml_escape(r.report_href), name);
    std::string links;
    if (!r.journal_href.empty()) links = fmt::format(" <a class=\"sub\" href=\"{}\">journal</a>", xml_escape(r.journal_href));
    std::string mttr = r.mttr ? format_seconds(*r.mttr) : r.recovered ? "—" : "not recovered";
    out += fmt::format(
        "<tr data-experiment=\"{}\"><td><span class=\"pill {}\">{}</span></td><td><div class=\"expectation-name\">{}{}</div><div class=\"sub\">{}</div></td>"
        "<td class=\"num\">{}</td><td>{}</td><td class=\"num\">{} / {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        xml_escape(r.experiment), result_class(r.result), xml_escape(result_title(r.result)), name, links, xml_escape(r.reason),
        format_score(r.score), xml_escape(r.sla_tier.empty() ? "none" : r.sla_tier), r.expectations_met, r.expectations, format_seconds(r.mttd),
        xml_escape(mttr), format_seconds(r.duration));
  }
  out += "</tbody>\n</table>\n</section>\n";
  out += "<footer>Rendered by faultline · self-contained: no scripts, nothing fetched</footer>\n</main>\n</body>\n</html>\n";
  return out;
}

std::string render_suite_markdown(const suite_summary& suite) {
  auto passed = suite.count("passed");
  std::string out = fmt::format("## {} {}: {}\n\n", passed == suite.runs.size() ? "✅" : "❌", markdown_cell(suite.name), headline(suite));
  out += "| | Experiment | Score | SLA tier | Expectations | MTTR |\n|---|---|---|---|---|---|\n";
  for (const auto& r : suite.runs) {
    std::string icon = r.result == "passed" ? "✅" : r.result == "failed" ? "❌" : "⚠️";
    std::string mttr = r.mttr ? format_seconds(*r.mttr) : r.recovered ? "—" : "not recovered";
    out += fmt::format("| {} | {} | {} | {} | {}/{} | {} |\n", icon, markdown_cell(r.experiment), format_score(r.score),
                       r.sla_tier.empty() ? "none" : markdown_cell(r.sla_tier), r.expectations_met, r.expectations, mttr);
  }
  return out + "\n";
}

}  // namespace faultline::reports
