#pragma once
// A suite's summary: one row per experiment run, in the order they ran, for the suite's index
// page and its Markdown summary. Built from the runs' journals alone.

#include "reports/journal.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace faultline::reports {

struct suite_entry {
  std::string experiment;
  std::string description;
  std::string result;  // the verdict: passed, failed, aborted, not_steady, error
  int exit_code = 0;
  std::string reason;
  double score = 0;
  std::string sla_tier;
  std::size_t expectations = 0;
  std::size_t expectations_met = 0;
  std::optional<double> mttd, mttr;
  bool recovered = false;
  double duration = 0;  // seconds
  std::string started_at;
  std::string report_href;   // the run's HTML report, relative to the index; empty: none
  std::string journal_href;  // the run's journal, relative to the index; empty: none
};

struct suite_summary {
  std::string name;
  std::vector<suite_entry> runs;

  std::size_t count(std::string_view result) const;
  // The suite's exit code: the highest of its runs' (0 all passed, 1 a miss, 2 invalid, 3 aborted, 4 internal).
  int exit_code() const;
  std::optional<double> mean_score() const;
  double duration() const;
};

suite_entry suite_entry_of(const journal& run, std::string report_href = "", std::string journal_href = "");
suite_summary summarize_suite(std::string name, std::span<const journal> runs);

std::string render_suite_html(const suite_summary& suite);
std::string render_suite_markdown(const suite_summary& suite);

}  // namespace faultline::reports
