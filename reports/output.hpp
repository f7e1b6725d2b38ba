#pragma once
// Writing reports to files: what `faultline report` and `faultline run` call. Every file is
// written next to its final name and renamed into place, so a reader never sees half a report.

#include "reports/journal.hpp"

#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::reports {

// A report that cannot be written; the message names the file and the reason.
class report_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Creates missing parent directories. "-" writes to standard output.
void write_text_file(const std::filesystem::path& path, std::string_view text);

// Empty paths are not written.
struct report_outputs {
  std::filesystem::path html;
  std::filesystem::path junit;
  std::filesystem::path markdown;
};

void write_reports(const journal& run, const report_outputs& outputs);

struct suite_outputs {
  std::string name;              // the suite's name, shown on its index page
  std::filesystem::path html_dir;  // one page per run, <slug of experiment>.html, and index.html
  std::filesystem::path junit;     // one file, one <testsuite> per run
  std::filesystem::path markdown;  // the suite table and then each run's summary
  // Journal paths to link from the index, one per run (optional; relative links are made).
  std::vector<std::filesystem::path> journals;
};

// Returns the files written.
std::vector<std::filesystem::path> write_suite_reports(std::span<const journal> runs, const suite_outputs& outputs);

// "<slug>.html" for each run, unique within the suite ("-2", "-3" for repeated names).
std::vector<std::string> suite_page_names(std::span<const journal> runs);

}  // namespace faultline::reports
