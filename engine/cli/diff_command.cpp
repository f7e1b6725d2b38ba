#include "core/units.hpp"
#include "engine/cli/cli.hpp"
#include "reports/diff.hpp"
#include "reports/output.hpp"

#include <fmt/format.h>

#include <iostream>

namespace faultline::cli {

namespace {

// "25%" -> 0.25. A bare number is refused: "25" could mean 25% or 2500%.
double parse_increase_percent(const std::string& option, const std::string& text) {
  if (text.empty() || text.back() != '%')
    throw unit_error(fmt::format("{}: '{}' is not a percentage; write it with a % sign, e.g. 25%", option, text));
  try {
    double v = parse_number(std::string_view(text).substr(0, text.size() - 1));
    if (v < 0) throw unit_error("negative");
    return v / 100;
  } catch (const unit_error&) {
    throw unit_error(fmt::format("{}: '{}' is not a percentage of 0% or more, e.g. 25%", option, text));
  }
}

}  // namespace

// `faultline diff OLD NEW`: compares two runs of one experiment; exit 1 on a regression beyond the
// thresholds, 0 otherwise, 2 when a journal cannot be read or an option is malformed.
void add_diff_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("diff", "Compare two runs of an experiment; exit 1 on a regression beyond the thresholds");
  struct options {
    std::string before, after;
    std::string max_score_drop = "5";
    std::string max_mttr_increase = "25%";
    std::string max_p99_increase = "25%";
    std::string min_p99_increase = "5ms";
    std::string max_error_rate_increase = "1%";
    bool allow_tier_drop = false;
    bool allow_new_failures = false;
    bool allow_different = false;
    std::string markdown;
  };
  auto opts = std::make_shared<options>();
  cmd->add_option("old", opts->before, "journal of the earlier (baseline) run")->required();
  cmd->add_option("new", opts->after, "journal of the run to judge")->required();
  cmd->add_option("--max-score-drop", opts->max_score_drop, "score points the new run may lose")->capture_default_str();
  cmd->add_option("--max-mttr-increase", opts->max_mttr_increase,
                  "MTTR growth allowed: a duration (5s) or a percentage (25%, never less than one window)")->capture_default_str();
  cmd->add_option("--max-p99-increase", opts->max_p99_increase, "p99 growth allowed per series and phase")->capture_default_str();
  cmd->add_option("--min-p99-increase", opts->min_p99_increase, "p99 changes smaller than this are noise")->capture_default_str();
  cmd->add_option("--max-error-rate-increase", opts->max_error_rate_increase,
                  "error-rate growth allowed per series and phase, in percentage points")->capture_default_str();
  cmd->add_flag("--allow-tier-drop", opts->allow_tier_drop, "a lower SLA tier is not a regression");
  cmd->add_flag("--allow-new-failures", opts->allow_new_failures, "newly missed expectations are not regressions");
  cmd->add_flag("--allow-different-experiments", opts->allow_different, "compare journals of differently named experiments");
  cmd->add_option("--markdown", opts->markdown, "also write the comparison as Markdown (for a CI job summary)");
  cmd->callback([&ctx, opts] {
    reports::diff_thresholds limits;
    try {
      limits.max_score_drop = parse_number(opts->max_score_drop);
      if (limits.max_score_drop < 0) throw unit_error("--max-score-drop: must be 0 or more");
      if (!opts->max_mttr_increase.empty() && opts->max_mttr_increase.back() == '%')
        limits.max_mttr_increase_ratio = parse_increase_percent("--max-mttr-increase", opts->max_mttr_increase);
      else
        limits.max_mttr_increase = std::chrono::duration<double>(parse_duration(opts->max_mttr_increase)).count();
      limits.max_p99_increase_ratio = parse_increase_percent("--max-p99-increase", opts->max_p99_increase);
      limits.min_p99_increase = std::chrono::duration<double>(parse_duration(opts->min_p99_increase)).count();
      limits.max_error_rate_increase = parse_fraction(opts->max_error_rate_increase);
    } catch (const unit_error& e) {
      std::cerr << "faultline diff: " << e.what() << "\n";
      ctx.exit = exit_invalid;
      return;
    }
    limits.allow_tier_drop = opts->allow_tier_drop;
    limits.allow_new_failures = opts->allow_new_failures;

    reports::journal before, after;
    try {
      before = reports::read_journal(opts->before);
      after = reports::read_journal(opts->after);
    } catch (const reports::journal_error& e) {
      std::cerr << "faultline diff: " << e.what() << "\n";
      ctx.exit = exit_invalid;
      return;
    }
    auto diff = reports::compare_runs(before, after, limits);
    if (!diff.mismatch.empty() && !opts->allow_different) {
      std::cerr << "faultline diff: " << diff.mismatch << "; pass --allow-different-experiments to compare them anyway\n";
      ctx.exit = exit_invalid;
      return;
    }
    std::cout << reports::render_diff_text(diff);
    if (!opts->markdown.empty()) {
      try {
        reports::write_text_file(opts->markdown, reports::render_diff_markdown(diff));
      } catch (const reports::report_error& e) {
        std::cerr << "faultline diff: " << e.what() << "\n";
        ctx.exit = exit_invalid;
        return;
      }
    }
    ctx.exit = diff.regressed() ? exit_expectation_missed : exit_ok;
  });
}

}  // namespace faultline::cli
