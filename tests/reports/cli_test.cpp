#include "reports/journal.hpp"
#include "reports/run_summary.hpp"
#include "tests/reports/synthetic_journal.hpp"
#include "tests/support/command.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace faultline;
using Catch::Contains;

namespace {

std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-report-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

std::string write(const reports::journal& j, const std::string& name) {
  auto path = (temp_dir() / name).string();
  reports::write_journal(j, path);
  return path;
}

std::string recorded() { return std::string(FAULTLINE_REPORTS_TEST_DATA) + "/checkout-journal.json"; }

test::command_result run_faultline(const std::string& args) { return test::run_command(test::faultline_binary() + " " + args); }

}  // namespace

TEST_CASE("faultline report re-renders HTML, JUnit and Markdown from a journal", "[reports]") {
  auto dir = temp_dir() / "one";
  auto r = run_faultline("report " + recorded() + " --html " + (dir / "r.html").string() + " --junit " + (dir / "r.xml").string() +
                     " --markdown " + (dir / "r.md").string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::file_size(dir / "r.html") > 10000);
  CHECK(std::filesystem::file_size(dir / "r.xml") > 500);
  CHECK(std::filesystem::file_size(dir / "r.md") > 500);
  CHECK_THAT(r.output, Contains("wrote html     " + (dir / "r.html").string()));

  auto stdout_md = run_faultline("report " + recorded());
  CHECK(stdout_md.exit_code == 0);
  CHECK_THAT(stdout_md.output, Catch::StartsWith("## ❌ checkout-db-slowness: Failed"));

  auto suite = run_faultline("report " + recorded() + " " + recorded() + " --name nightly --html " + (dir / "suite").string());
  INFO(suite.output);
  CHECK(suite.exit_code == 0);
  CHECK(std::filesystem::exists(dir / "suite" / "index.html"));
  CHECK(std::filesystem::exists(dir / "suite" / "checkout-db-slowness-2.html"));

  // A journal written before schema version 2 renders too.
  auto old = run_faultline("report " + std::string(FAULTLINE_REPORTS_TEST_DATA) + "/checkout-journal-v1.json --html " +
                           (dir / "v1.html").string() + " --markdown " + (dir / "v1.md").string());
  INFO(old.output);
  CHECK(old.exit_code == 0);
  CHECK(std::filesystem::file_size(dir / "v1.html") > 10000);
  std::ifstream md(dir / "v1.md");
  std::string first;
  std::getline(md, first);
  CHECK(first == "## ❌ checkout-db-slowness: Failed");
}

TEST_CASE("faultline report rejects an unreadable or older journal with exit 2", "[reports]") {
  auto doc = reports::to_json(test::synthetic_journal());
  doc["schema_version"] = 0;
  auto old_path = (temp_dir() / "old.json").string();
  std::ofstream(old_path) << doc.dump();
  auto r = run_faultline("report " + old_path + " --html " + (temp_dir() / "never.html").string());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("faultline report: " + old_path + ": journal schema version 0 is not supported: this faultline reads schema versions 1 to 2"));
  CHECK_FALSE(std::filesystem::exists(temp_dir() / "never.html"));

  auto missing = run_faultline("report /nonexistent/run.json");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Contains("/nonexistent/run.json: cannot read the journal"));
}

TEST_CASE("faultline diff: identical runs exit 0, a worse MTTR exits 1", "[reports]") {
  auto base = test::synthetic_journal();
  auto old_path = write(base, "base.json");
  auto same = run_faultline("diff " + old_path + " " + recorded());
  INFO(same.output);
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.output, Contains("no regression beyond the thresholds"));

  auto worse = base;
  worse.run_id = "20260315T093000Z-checkout-db-slowness-0b1c";
  // One run a side: beyond the journal breaker's retry period (11.4 s, the phase MTTR can move by).
  worse.analysis.mttr = 20.0;
  worse.analysis.expectations[4].measured = "20s";
  worse.analysis.expectations[4].measured_value = 20.0;
  worse.analysis.expectations[4].met = false;
  worse.analysis.expectations[4].grade = 0.8;
  auto new_path = write(worse, "worse.json");
  auto md = (temp_dir() / "diff.md").string();
  auto r = run_faultline("diff " + old_path + " " + new_path + " --markdown " + md);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("REGRESSION"));
  CHECK_THAT(r.output, Contains("2 regressions beyond the thresholds"));  // MTTR, and the mttr expectation now missed
  CHECK(std::filesystem::exists(md));

  auto lenient = run_faultline("diff " + old_path + " " + new_path + " --max-mttr-increase 20s --allow-new-failures");
  INFO(lenient.output);
  CHECK(lenient.exit_code == 0);
}

TEST_CASE("faultline diff: bad input exits 2 with the reason", "[reports]") {
  auto base = write(test::synthetic_journal(), "base.json");
  auto bad_option = run_faultline("diff " + base + " " + base + " --max-p99-increase 25");
  CHECK(bad_option.exit_code == 2);
  CHECK_THAT(bad_option.output, Contains("--max-p99-increase: '25' is not a percentage; write it with a % sign, e.g. 25%"));
  auto bad_duration = run_faultline("diff " + base + " " + base + " --max-mttr-increase 5 seconds");
  CHECK(bad_duration.exit_code == 2);

  auto missing = run_faultline("diff " + base + " /nonexistent/new.json");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Contains("faultline diff: /nonexistent/new.json: cannot read the journal"));

  auto other = test::synthetic_journal();
  other.experiment.name = "another";
  auto other_path = write(other, "another.json");
  auto mismatch = run_faultline("diff " + base + " " + other_path);
  CHECK(mismatch.exit_code == 2);
  CHECK_THAT(mismatch.output, Contains("different experiments"));
  CHECK(run_faultline("diff " + base + " " + other_path + " --allow-different-experiments").exit_code == 0);
}

TEST_CASE("faultline report --reanalyse refuses a journal without samples (schema version 1)", "[reports]") {
  const auto v1 = std::string(FAULTLINE_REPORTS_TEST_DATA) + "/checkout-journal-v1.json";
  auto r = run_faultline("report " + v1 + " --reanalyse --markdown -");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("faultline report: " + v1 + ": the journal has no complete sample log"));
}

TEST_CASE("faultline diff: sets of runs in directories, a regression only when beyond the threshold and significant", "[reports]") {
  // Five runs a side; the fault phase's latencies scatter by a few percent, and in `slower` they are 50 % higher.
  auto write_set = [](const std::string& name, double factor) {
    auto dir = temp_dir() / name;
    std::filesystem::create_directories(dir);
    for (int i = 0; i < 5; ++i) {
      auto j = test::synthetic_journal();
      double f = factor * (1 + 0.03 * (i - 2));
      const auto* fault = reports::find_phase(j, "fault");
      for (auto& s : j.analysis.phase_stats)
        if (s.series == "load" && s.phase == "fault") *s.p99 *= f;
      for (auto& s : j.series)
        if (s.name == "load")
          for (auto& w : s.windows)
            if (w.start >= fault->start && w.start < fault->end && w.p99) *w.p99 *= f;
      reports::write_journal(j, (dir / ("run-" + std::to_string(i) + ".journal.json")).string());
    }
    return dir.string();
  };
  auto base = write_set("set-base", 1), again = write_set("set-again", 1.01), slower = write_set("set-slower", 1.5);

  auto same = run_faultline("diff " + base + " " + again);
  INFO(same.output);
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.output, Contains("(5 runs -> 5 runs)"));
  CHECK_THAT(same.output, Contains("no regression beyond the thresholds and the noise"));

  auto md = (temp_dir() / "sets.md").string();
  auto worse = run_faultline("diff " + base + " " + slower + " --markdown " + md);
  INFO(worse.output);
  CHECK(worse.exit_code == 1);
  CHECK_THAT(worse.output, Contains("p99 load/fault +50 % [+"));
  CHECK_THAT(worse.output, Contains("p = 0.008"));  // 5 against 5, fully separated: 2/252
  CHECK_THAT(worse.output, Contains("1 regression beyond the thresholds and the noise"));
  CHECK(std::filesystem::exists(md));

  // The same runs as lists; a stricter significance level than the data can reach: no regression.
  auto listed = run_faultline("diff --old " + base + "/run-0.journal.json " + base + "/run-1.journal.json " + base +
                              "/run-2.journal.json " + base + "/run-3.journal.json " + base + "/run-4.journal.json --new " + slower +
                              " --alpha 0.005");
  INFO(listed.output);
  CHECK(listed.exit_code == 0);
  CHECK_THAT(listed.output, Contains("not significant (p = 0.008)"));

  auto empty_dir = temp_dir() / "set-empty";
  std::filesystem::create_directories(empty_dir);
  auto none = run_faultline("diff " + base + " " + empty_dir.string());
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.output, Contains("no *.journal.json in this directory"));
}

TEST_CASE("faultline diff: one run a side says it cannot tell noise from change", "[reports]") {
  auto base = write(test::synthetic_journal(), "single-base.json");
  auto r = run_faultline("diff " + base + " " + base);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("note: one run a side: cannot tell noise from change"));
}
