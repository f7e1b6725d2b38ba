#include "core/units.hpp"
#include "engine/analysis/scoring.hpp"
#include "engine/cli/cli.hpp"
#include "engine/experiment.hpp"
#include "reports/diff.hpp"
#include "reports/output.hpp"
#include "reports/run_sets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
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

// A journal, or every *.journal.json in a directory (what `faultline run --repeat` writes).
std::vector<std::string> expand_journals(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(p, ec)) {
      auto name = entry.path().filename().string();
      if (name.size() > 13 && name.ends_with(".journal.json")) found.push_back(entry.path().string());
    }
    if (found.empty()) throw reports::journal_error(fmt::format("{}: no *.journal.json in this directory", p));
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace

// `faultline diff OLD... NEW...`: compares runs of one experiment, one or a set a side; exit 1 on a
// regression beyond the thresholds and the noise (reports/run_sets.hpp), 0 otherwise, 2 when a
// journal cannot be read or an option is malformed.
void add_diff_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("diff", "Compare runs of an experiment (one or a set a side); exit 1 on a regression beyond the thresholds and the noise");
  struct options {
    std::string before, after;
    std::vector<std::string> old_set, new_set;
    double alpha = 0.05;
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
  cmd->add_option("old", opts->before, "journal (or directory of journals) of the earlier (baseline) runs");
  cmd->add_option("new", opts->after, "journal (or directory of journals) of the runs to judge");
  cmd->add_option("--old", opts->old_set, "baseline journals, as a list (instead of OLD)");
  cmd->add_option("--new", opts->new_set, "journals to judge, as a list (instead of NEW)");
  cmd->add_option("--alpha", opts->alpha, "significance level for sets of runs (Mann-Whitney, two-sided)")->capture_default_str();
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

    if (opts->alpha <= 0 || opts->alpha >= 1) {
      std::cerr << "faultline diff: --alpha: must lie between 0 and 1, e.g. 0.05\n";
      ctx.exit = exit_invalid;
      return;
    }
    std::vector<std::string> old_paths = opts->old_set, new_paths = opts->new_set;
    if (!opts->before.empty()) old_paths.insert(old_paths.begin(), opts->before);
    if (!opts->after.empty()) new_paths.insert(new_paths.begin(), opts->after);
    if (old_paths.empty() || new_paths.empty()) {
      std::cerr << "faultline diff: give the old and the new runs: OLD NEW (journals or directories), or --old FILE... --new FILE...\n";
      ctx.exit = exit_invalid;
      return;
    }
    std::vector<reports::journal> before, after;
    try {
      for (const auto& p : expand_journals(old_paths)) before.push_back(reports::read_journal(p));
      for (const auto& p : expand_journals(new_paths)) after.push_back(reports::read_journal(p));
    } catch (const reports::journal_error& e) {
      std::cerr << "faultline diff: " << e.what() << "\n";
      ctx.exit = exit_invalid;
      return;
    }
    reports::set_options set_options;
    set_options.limits = limits;
    set_options.alpha = opts->alpha;
    set_options.tiers = engine::sla_tier_bounds();
    auto sets = reports::compare_sets(before, after, set_options);
    if (!sets.mismatch.empty() && !opts->allow_different) {
      std::cerr << "faultline diff: " << sets.mismatch << "; pass --allow-different-experiments to compare them anyway\n";
      ctx.exit = exit_invalid;
      return;
    }
    // Sets: compared across runs. One run a side: the full table, its noise bounded by the spread
    // of each run's windows.
    const bool sets_mode = before.size() > 1 || after.size() > 1;
    std::string text, markdown;
    bool regressed = false;
    if (sets_mode) {
      text = reports::render_set_diff_text(sets);
      markdown = reports::render_set_diff_markdown(sets);
      regressed = sets.regressed();
    } else {
      auto diff = reports::compare_runs(before.front(), after.front(), limits);
      reports::bound_by_spread(diff, sets);
      text = "note: " + sets.caveat + "\n" + reports::render_diff_text(diff);
      markdown = reports::render_diff_markdown(diff);
      regressed = diff.regressed();
    }
    std::cout << text;
    if (!opts->markdown.empty()) {
      try {
        reports::write_text_file(opts->markdown, markdown);
      } catch (const reports::report_error& e) {
        std::cerr << "faultline diff: " << e.what() << "\n";
        ctx.exit = exit_invalid;
        return;
      }
    }
    ctx.exit = regressed ? exit_expectation_missed : exit_ok;
  });
}

}  // namespace faultline::cli
