#include "core/units.hpp"
#include "engine/cli/cli.hpp"
#include "engine/metrics/metrics_server.hpp"
#include "engine/metrics/run_metrics.hpp"
#include "engine/plan.hpp"
#include "engine/runner/preflight.hpp"
#include "engine/runner/session.hpp"
#include "engine/state_file.hpp"
#include "reports/diff.hpp"
#include "reports/journal.hpp"
#include "reports/margins.hpp"
#include "reports/format.hpp"
#include "reports/output.hpp"
#include "reports/repeat_report.hpp"
#include "reports/repeat_summary.hpp"
#include "reports/suite.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <set>

namespace faultline::cli {
namespace {

struct run_options {
  std::vector<std::string> inputs;
  std::vector<std::string> vars;
  bool dry_run = false;
  bool interactive = false;
  std::string report_dir = "faultline-reports";
  std::string junit;
  std::string baseline;
  std::string state_path;
  int repeat = 0;  // 0: the experiment's settings.repeat
  std::string metrics;
  std::string metrics_textfile;
  std::string metrics_grace = "10s";
  bool allow_non_loopback = false;
};

// The runs' metrics (--metrics, settings.metrics, --metrics-textfile): one endpoint per address,
// bound before anything runs and kept for the whole command; the final metrics of every run so
// far in the textfile.
class run_metrics_output final : public engine::metrics_sink {
public:
  run_metrics_output(const run_options& opts, const std::vector<engine::experiment>& experiments) : opts_(opts) {
    try {
      grace_ = parse_duration(opts.metrics_grace);
    } catch (const unit_error& e) {
      throw engine::config_error({{{"--metrics-grace", 0, 0, ""}, e.what()}});
    }
    for (const auto& x : experiments) {
      const auto address = where(x);
      if (address.empty() || servers_.contains(address)) continue;
      const bool allowed = opts.allow_non_loopback || (opts.metrics.empty() && x.settings.metrics_allow_non_loopback);
      servers_.emplace(address, bind(address, allowed, opts.metrics.empty() ? x.file.string() + ": settings.metrics"
                                                                            : std::string("--metrics")));
    }
  }

  // Before each run: its endpoint (none: it has no metrics address).
  void begin(const engine::experiment& x) {
    auto it = servers_.find(where(x));
    current_ = it == servers_.end() ? nullptr : it->second.get();
  }
  bool wanted() const { return current_ || !opts_.metrics_textfile.empty(); }

  void publish(const prometheus::exposition& run, const prometheus::exposition& proxies, bool final) override {
    if (current_) current_->publish(run.text() + proxies.text());
    if (!final) return;
    finals_.merge(run);
    if (!opts_.metrics_textfile.empty()) engine::write_metrics_textfile(opts_.metrics_textfile, finals_.text());
  }

  // After each run: the endpoint stays up until a scrape has seen the verdict, or the grace period.
  void end() {
    if (!current_ || grace_.count() <= 0) return;
    if (!current_->wait_until_scraped(grace_))
      std::cout << fmt::format("metrics: no scrape within {} after the run (--metrics-grace); the final metrics were "
                               "not collected\n", format_duration(grace_));
  }

private:
  std::string where(const engine::experiment& x) const {
    if (!opts_.metrics.empty()) return opts_.metrics;
    return x.settings.metrics ? x.settings.metrics->to_string() : std::string();
  }

  static std::unique_ptr<engine::metrics_server> bind(const std::string& address, bool allowed, const std::string& what) {
    boost::asio::ip::tcp::endpoint endpoint;
    try {
      endpoint = listen_endpoint(address);
    } catch (const std::exception& e) {
      throw engine::config_error({{{what, 0, 0, ""}, fmt::format("{}: {} (write host:port, e.g. 127.0.0.1:9464)", address, e.what())}});
    }
    if (!endpoint.address().is_loopback()) {
      if (!allowed)
        throw engine::config_error({{{what, 0, 0, ""},
                                     fmt::format("{} is not a loopback address; anyone who reaches it can read the run. Use "
                                                 "127.0.0.1, or pass --allow-non-loopback to serve it there", address)}});
      std::cerr << fmt::format("faultline run: warning: the metrics endpoint listens on {}, which is not loopback\n", address);
    }
    try {
      auto server = std::make_unique<engine::metrics_server>(endpoint);
      const auto bound = server->local_endpoint();
      std::cout << fmt::format("metrics: http://{}:{}/metrics\n",
                               bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string(),
                               bound.port());
      return server;
    } catch (const boost::system::system_error& e) {
      throw engine::config_error({{{what, 0, 0, ""}, fmt::format("cannot listen on {}: {}", address, e.code().message())}});
    }
  }

  const run_options& opts_;
  std::chrono::nanoseconds grace_{};
  std::map<std::string, std::unique_ptr<engine::metrics_server>> servers_;
  engine::metrics_server* current_ = nullptr;
  prometheus::exposition finals_;
};

std::string seconds_text(const std::optional<double>& s) {
  if (!s) return "-";
  return format_seconds(*s);
}

void print_summary(const std::vector<reports::journal>& runs, const std::vector<std::filesystem::path>& pages) {
  std::cout << fmt::format("\n{:<24} {:<10} {:>6} {:<9} {:>7} {:>7} {:>9} {:>9}  {}\n", "experiment", "verdict", "score",
                           "tier", "MTTD", "MTTR", "opened", "closed", "report");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& j = runs[i];
    const auto& b = j.analysis.breaker;
    std::cout << fmt::format("{:<24} {:<10} {:>6.1f} {:<9} {:>7} {:>7} {:>9} {:>9}  {}\n", j.experiment.name,
                             j.verdict.result, j.analysis.score, j.analysis.sla_tier, seconds_text(j.analysis.mttd),
                             seconds_text(j.analysis.mttr), b ? seconds_text(b->time_to_open) : "-",
                             b ? seconds_text(b->time_to_close) : "-", i < pages.size() ? pages[i].string() : "");
  }
  for (const auto& j : runs)
    if (j.verdict.result != "passed") std::cout << fmt::format("  {}: {}\n", j.experiment.name, j.verdict.reason);
}

// Experiments' exit codes combined: an invalid, aborted or internal outcome (the highest) first,
// then a consistent miss, then flaky (5), then 0.
int combined_exit(const std::vector<int>& codes) {
  int worst = 0;
  bool missed = false, flaky = false;
  for (int c : codes) {
    if (c >= 2 && c != reports::flaky_exit_code) worst = std::max(worst, c);
    missed = missed || c == exit_expectation_missed;
    flaky = flaky || c == reports::flaky_exit_code;
  }
  if (worst) return worst;
  return missed ? exit_expectation_missed : flaky ? reports::flaky_exit_code : exit_ok;
}

}  // namespace

// `faultline run FILE|DIR...`: runs experiments in order; --dry-run prints each plan instead.
void add_run_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("run", "Run experiments and suites (or print their plan with --dry-run)");
  auto opts = std::make_shared<run_options>();
  cmd->add_option("inputs", opts->inputs, "experiment files, suites or directories")->required();
  cmd->add_option("--var", opts->vars, "set a ${name} variable: name=value");
  cmd->add_flag("--dry-run", opts->dry_run, "print the plan on a time axis; start and change nothing");
  cmd->add_flag("--interactive", opts->interactive, "game-day mode: [e] ends manual faults, [a] aborts");
  cmd->add_option("--report-dir", opts->report_dir, "where journals and reports go (default: faultline-reports)");
  cmd->add_option("--junit", opts->junit, "also write one JUnit XML file for all experiments here");
  cmd->add_option("--repeat", opts->repeat, "run each experiment N times, each from a clean start, and summarise the spread "
                                            "(default: its settings.repeat, else 1); exit 5 when the verdict is flaky")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--baseline", opts->baseline, "compare with this earlier journal; a regression exits 1");
  cmd->add_option("--state-file", opts->state_path,
                  fmt::format("state file for crash recovery (default: {})", engine::state_file::default_path_rule()));
  cmd->add_option("--metrics", opts->metrics, "serve the run's Prometheus metrics at host:port/metrics (e.g. 127.0.0.1:9464)");
  cmd->add_option("--metrics-textfile", opts->metrics_textfile,
                  "write the final metrics of every run to this file, atomically (node_exporter's textfile collector)");
  cmd->add_option("--metrics-grace", opts->metrics_grace,
                  "after each run, keep /metrics up until it is scraped once, at most this long (default: 10s)");
  cmd->add_flag("--allow-non-loopback", opts->allow_non_loopback, "let --metrics listen on a non-loopback address");
  cmd->callback([&ctx, opts] {
    auto vars = parse_vars(opts->vars);
    std::vector<std::filesystem::path> inputs(opts->inputs.begin(), opts->inputs.end());
    auto files = engine::expand_inputs(inputs);
    // Everything is validated before anything runs.
    std::vector<engine::experiment> experiments;
    std::vector<engine::diagnostic> problems;
    for (const auto& file : files) {
      try {
        experiments.push_back(engine::load_experiment(file, ctx.catalogue(), vars));
      } catch (const engine::config_error& e) {
        problems.insert(problems.end(), e.problems().begin(), e.problems().end());
      }
    }
    if (!problems.empty()) throw engine::config_error(std::move(problems));
    if (opts->dry_run) {
      for (const auto& x : experiments) std::cout << engine::render_plan(x) << "\n";
      ctx.exit = exit_ok;
      return;
    }
    std::optional<reports::journal> baseline;
    if (!opts->baseline.empty()) {
      if (experiments.size() != 1)
        throw engine::config_error({{{opts->baseline, 0, 0, ""}, "--baseline compares one experiment; give exactly one"}});
      try {
        baseline = reports::read_journal(opts->baseline);
      } catch (const reports::journal_error& e) {
        throw engine::config_error({{{opts->baseline, 0, 0, ""}, e.what()}});
      }
    }

    // A suite that needs privileges this process lacks stops here, before its first experiment.
    for (const auto& x : experiments) engine::check_privileges(x);

    run_metrics_output metrics(*opts, experiments);
    engine::run_options options;
    options.state_path = opts->state_path.empty() ? engine::state_file::default_path() : std::filesystem::path(opts->state_path);
    options.interactive = opts->interactive;
    options.tty = ::isatty(STDOUT_FILENO) != 0;
    std::vector<reports::journal> runs;
    const std::filesystem::path dir(opts->report_dir);
    std::vector<std::filesystem::path> journals;
    std::vector<int> experiment_exits;
    std::vector<std::string> repeat_texts;
    std::vector<std::pair<reports::repeat_summary, std::size_t>> repeats_done;  // each summary and its first run
    bool stopped = false;
    for (std::size_t i = 0; i < experiments.size() && !stopped; ++i) {
      const auto& x = experiments[i];
      const int repeats = opts->repeat > 0 ? opts->repeat : x.settings.repeat;
      const std::size_t first = runs.size();
      for (int k = 1; k <= repeats && !stopped; ++k) {
        std::string round = repeats > 1 ? fmt::format(" run {} of {}", k, repeats) : "";
        std::cout << fmt::format("\n=== {} ({}/{}){}: {}\n", x.name, i + 1, experiments.size(), round, x.file.string());
        // Each run from a clean start: its own session (proxies, probes, state, steady-state check).
        metrics.begin(x);
        options.metrics = metrics.wanted() ? &metrics : nullptr;
        engine::session run(x, ctx.faults, ctx.probes, options);
        runs.push_back(run.run());
        metrics.end();
        const auto& j = runs.back();
        std::cout << fmt::format("=== {}{}: {} (exit {}): {}\n", x.name, round, j.verdict.result, j.verdict.exit_code, j.verdict.reason);
        std::cout << reports::render_margins_text(j.analysis.expectations);
        auto names = reports::suite_page_names(runs);
        auto journal_path = dir / (names.back().substr(0, names.back().size() - 5) + ".journal.json");
        std::filesystem::create_directories(dir);  // only now: a run stopped in preflight leaves nothing
        reports::write_journal(j, journal_path.string());
        journals.push_back(journal_path);
        stopped = j.verdict.result == "aborted" && j.verdict.reason.find("SIG") != std::string::npos;  // a signal ends the suite
      }
      std::span<const reports::journal> mine(runs.data() + first, runs.size() - first);
      if (repeats > 1) {
        auto summary = reports::summarize_repeats(mine);
        repeat_texts.push_back(reports::render_repeat_text(summary));
        experiment_exits.push_back(summary.exit_code());
        repeats_done.emplace_back(std::move(summary), first);
      } else {
        for (const auto& j : mine) experiment_exits.push_back(j.verdict.exit_code);
      }
    }

    reports::suite_outputs outputs;
    outputs.name = experiments.size() == 1 ? experiments[0].name : "suite";
    outputs.html_dir = dir;
    outputs.markdown = dir / "summary.md";
    outputs.junit = opts->junit.empty() ? dir / "junit.xml" : std::filesystem::path(opts->junit);
    outputs.journals = journals;
    reports::write_suite_reports(runs, outputs);
    std::vector<std::filesystem::path> pages;
    for (const auto& name : reports::suite_page_names(runs)) pages.push_back(dir / name);
    print_summary(runs, pages);
    // A repeated experiment's combined summary: HTML (the spread), Markdown and JSON, beside its runs.
    std::set<std::string> repeat_names;
    for (auto& [summary, first] : repeats_done) {
      std::string name = reports::slug(summary.experiment) + ".repeat";
      for (int n = 2; !repeat_names.insert(name).second; ++n) name = fmt::format("{}-{}.repeat", reports::slug(summary.experiment), n);
      std::vector<std::string> run_pages;
      auto names = reports::suite_page_names(runs);
      for (std::size_t k = first; k < first + summary.runs && k < names.size(); ++k) run_pages.push_back(names[k]);
      reports::write_text_file(dir / (name + ".html"), reports::render_repeat_html(summary, run_pages));
      reports::write_text_file(dir / (name + ".md"), reports::render_repeat_markdown(summary));
      reports::write_text_file(dir / (name + ".json"), reports::repeat_summary_json(summary).dump(2) + "\n");
      std::cout << fmt::format("{}: combined summary of {} runs in {}\n", summary.experiment, summary.runs, (dir / (name + ".html")).string());
    }
    if (runs.size() > 1) std::cout << fmt::format("suite index: {}\n", (dir / "index.html").string());
    std::cout << fmt::format("journals, HTML, Markdown and JUnit reports in {}\n", dir.string());

    for (const auto& text : repeat_texts) std::cout << "\n" << text;
    ctx.exit = combined_exit(experiment_exits);
    if (baseline) {
      auto diff = reports::compare_runs(*baseline, runs.front());
      std::cout << "\n" << reports::render_diff_text(diff);
      if (diff.regressed() && ctx.exit == exit_ok) ctx.exit = exit_expectation_missed;
    }
  });
}

}  // namespace faultline::cli
