#include "engine/analysis/analysis.hpp"
#include "engine/cli/cli.hpp"
#include "engine/config_error.hpp"
#include "reports/markdown.hpp"
#include "reports/output.hpp"

#include <fmt/format.h>

#include <iostream>

namespace faultline::cli {

// `faultline report JOURNAL... [--html F] [--junit F] [--markdown F]`: renders reports from
// journals alone. One journal: each option names a file. Several (a suite): --html names a
// directory that gets one page per run and index.html; --junit and --markdown hold them all.
// Without an option the Markdown summary goes to standard output. --reanalyse computes the
// analysis again from the journal's samples (the same numbers, unless the definitions changed).
void add_report_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("report", "Render HTML, JUnit and Markdown reports from run journals");
  struct options {
    std::vector<std::string> journals;
    std::string html, junit, markdown, name;
    bool reanalyse = false;
  };
  auto opts = std::make_shared<options>();
  cmd->add_option("journals", opts->journals, "journal files (JSON) written by faultline run")->required();
  cmd->add_option("--html", opts->html, "HTML report file (several journals: a directory, with index.html)");
  cmd->add_option("--junit", opts->junit, "JUnit XML file (one testsuite per journal)");
  cmd->add_option("--markdown", opts->markdown, "Markdown summary file ('-' for standard output)");
  cmd->add_option("--name", opts->name, "the suite's name on its index page (several journals)");
  cmd->add_flag("--reanalyse", opts->reanalyse,
                "compute the analysis again from the journal's samples instead of rendering the stored one");
  cmd->callback([&ctx, opts] {
    std::vector<reports::journal> runs;
    try {
      for (const auto& path : opts->journals) {
        runs.push_back(reports::read_journal(path));
        if (!opts->reanalyse) continue;
        try {
          const auto& x = runs.back().experiment;
          engine::reanalyse(runs.back(), engine::parse_experiment(x.resolved_yaml, x.file, ctx.catalogue(), {}));
        } catch (const reports::journal_error& e) {
          throw reports::journal_error(path + ": " + e.what());
        } catch (const engine::config_error& e) {
          throw reports::journal_error(path + ": the experiment it recorded does not load any more: " + e.what());
        }
      }
    } catch (const reports::journal_error& e) {
      std::cerr << "faultline report: " << e.what() << "\n";
      ctx.exit = exit_invalid;
      return;
    }
    bool any_output = !opts->html.empty() || !opts->junit.empty() || !opts->markdown.empty();
    try {
      if (!any_output) {
        if (runs.size() == 1)
          reports::write_text_file("-", reports::render_markdown(runs.front()));
        else
          reports::write_suite_reports(runs, {opts->name.empty() ? "suite" : opts->name, {}, {}, "-", {}});
      } else if (runs.size() == 1) {
        reports::write_reports(runs.front(), {opts->html, opts->junit, opts->markdown});
        for (const auto& [kind, path] : {std::pair{"html", opts->html}, {"junit", opts->junit}, {"markdown", opts->markdown}})
          if (!path.empty() && path != "-") std::cerr << fmt::format("wrote {:<9}{}\n", kind, path);
      } else {
        std::vector<std::filesystem::path> journals(opts->journals.begin(), opts->journals.end());
        auto written = reports::write_suite_reports(
            runs, {opts->name.empty() ? "suite" : opts->name, opts->html, opts->junit, opts->markdown, journals});
        for (const auto& path : written)
          if (path != "-") std::cerr << "wrote " << path.string() << "\n";
      }
    } catch (const reports::report_error& e) {
      std::cerr << "faultline report: " << e.what() << "\n";
      ctx.exit = exit_invalid;
      return;
    }
    ctx.exit = exit_ok;
  });
}

}  // namespace faultline::cli
