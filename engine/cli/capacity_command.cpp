#include "core/units.hpp"
#include "engine/capacity.hpp"
#include "engine/cli/cli.hpp"
#include "engine/runner/session.hpp"
#include "engine/state_file.hpp"
#include "probes/load_generator.hpp"
#include "reports/output.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <map>

namespace faultline::cli {
namespace {

struct capacity_options {
  std::string target;
  std::vector<std::string> require;
  std::map<std::string, std::string> search;  // load.capacity keys, as given on the command line
  std::string at_least;
  std::string under_fault_at_least;
  std::string window;
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  std::string timeout = "2s";
  int expect_status = 0;
  std::vector<std::string> vars;
  std::string report_dir = "faultline-reports";
  std::string state_path;
};

[[noreturn]] void bad(const std::string& option, const std::string& why) {
  throw engine::config_error({{{option, 0, 0, ""}, why}});
}

// A search option's value, parsed as its parameter kind says.
param_value parse_option(const param_spec& spec, const std::string& text) {
  const auto option = "--" + spec.name;
  try {
    switch (spec.kind) {
      case param_kind::rate: return parse_rate(text);
      case param_kind::duration: return parse_duration(text);
      case param_kind::fraction: return parse_fraction(text);
      case param_kind::number: return parse_number(text);
      default: break;
    }
  } catch (const unit_error& e) {
    bad(option, e.what());
  }
  bad(option, "is not a search setting");
}

// `faultline capacity URL`: an experiment made of the options.
engine::experiment experiment_for_url(const capacity_options& o) {
  engine::experiment x;
  x.name = "capacity";
  x.file = o.target;
  x.description = "faultline capacity " + o.target;
  params p;
  p.set("url", o.target);
  p.set("method", o.method);
  std::map<std::string, std::string> headers;
  for (const auto& h : o.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) bad("--header", fmt::format("'{}' is not 'Name: value'", h));
    auto value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    headers[h.substr(0, colon)] = value;
  }
  p.set("headers", headers);
  if (!o.body.empty()) p.set("body", o.body);
  try {
    p.set("timeout", parse_duration(o.timeout));
  } catch (const unit_error& e) {
    bad("--timeout", e.what());
  }
  if (o.expect_status) p.set("expect.status", std::int64_t{o.expect_status});
  engine::load_spec l;
  l.parameters = p;
  l.where = {"<command line>", 0, 0, "load.http"};
  probes::load_stage stand_in;
  stand_in.rate_from = stand_in.rate_to = 1;
  try {
    l.config = std::make_shared<const probes::http_load_config>(probes::http_load_config::from(p, {stand_in}));
  } catch (const param_error& e) {
    bad(e.param() == "url" ? "URL" : "--" + e.param(), e.what());
  }
  x.load = std::move(l);
  return x;
}

// The search, the targets and the rules from the options, over what the experiment says.
void apply_options(const capacity_options& o, engine::experiment& x) {
  if (!x.load) bad(o.target, "the experiment has no load section; the capacity is searched with its load");
  if (x.load->config->journey)
    bad(o.target, "the load is a journey (a closed model); a capacity search raises the arrival rate of a mix of requests:");
  if (!x.levels.empty()) bad(o.target, "the experiment runs load.levels; a capacity search is a different run");
  params given;
  for (const auto& spec : engine::capacity_search_params()) {
    auto it = o.search.find(spec.name);
    if (it != o.search.end() && !it->second.empty()) given.set(spec.name, parse_option(spec, it->second));
  }
  // Command-line settings override the experiment's load.capacity, key by key.
  params merged;
  const auto& c = x.capacity;
  merged.set("from", c.from);
  merged.set("up_to", c.up_to);
  merged.set("factor", c.factor);
  merged.set("precision", c.precision);
  merged.set("trial", c.trial);
  merged.set("warmup", c.warmup);
  merged.set("cooldown", c.cooldown);
  merged.set("time_limit", c.time_limit);
  for (const auto& [k, v] : given.values()) merged.set(k, v);
  auto rules = x.capacity.require;
  try {
    x.capacity = engine::capacity_search_from(merged);
  } catch (const param_error& e) {
    bad("--" + e.param(), e.what());
  }
  x.capacity.require = rules;
  if (!o.require.empty()) {
    x.capacity.require.clear();
    for (const auto& text : o.require) {
      try {
        auto r = engine::parse_rule(text);
        const bool known = r.series == "load" || x.find_probe(r.series) ||
                           (r.series.starts_with("load.") && [&] {
                             for (const auto& q : x.load->config->requests)
                               if ("load." + q.name == r.series) return true;
                             return false;
                           }());
        if (!known) bad("--require", fmt::format("rule \"{}\" refers to '{}', which is neither the load, one of its named "
                                                 "requests, nor a probe", text, r.series));
        x.capacity.require.push_back(std::move(r));
      } catch (const engine::rule_error& e) {
        bad("--require", fmt::format("in rule \"{}\": {}", text, e.what()));
      }
    }
  }
  if (x.capacity.require.empty() && x.steady_state.require.empty())
    bad("--require", "a capacity is the highest rate at which rules hold; give at least one, e.g. --require 'load.p95 < 200ms'");
  if (!x.expect.capacity) x.expect.capacity.emplace();
  const auto rate_of = [](const char* option, const std::string& text) {
    try {
      return parse_rate(text);
    } catch (const unit_error& e) {
      bad(option, e.what());
    }
  };
  if (!o.at_least.empty()) x.expect.capacity->at_least = rate_of("--at-least", o.at_least);
  if (!o.under_fault_at_least.empty()) x.expect.capacity->under_fault_at_least = rate_of("--under-fault-at-least", o.under_fault_at_least);
  if (!o.window.empty()) {
    try {
      x.settings.window = parse_duration(o.window);
    } catch (const unit_error& e) {
      bad("--window", e.what());
    }
    if (x.settings.window < std::chrono::milliseconds(100)) bad("--window", "the window must be at least 100ms");
  }
  // A fault experiment's own expectations belong to its timeline run, not to this one.
  x.expect.sla.reset();
  x.expect.during_fault.clear();
  x.expect.breaker.reset();
  x.expect.mttd_below.reset();
  x.expect.mttr_below.reset();
}

void print_curve(const reports::capacity_search_record& s) {
  std::cout << fmt::format("\n{}\n", s.condition == "healthy" ? "healthy" : "while " + s.faults);
  std::cout << fmt::format("  {:>10} {:>11} {:>9} {:>9} {:>9} {:>8}  {}\n", "rate", "answered", "p50", "p95", "p99", "errors",
                           "rules");
  auto trials = s.trials;
  std::sort(trials.begin(), trials.end(), [](const auto& a, const auto& b) { return a.rate < b.rate; });
  for (const auto& t : trials)
    std::cout << fmt::format("  {:>10} {:>11} {:>9} {:>9} {:>9} {:>8}  {}\n", format_rate(t.rate),
                             format_measured_rate(t.achieved), format_seconds(t.p50), format_seconds(t.p95),
                             format_seconds(t.p99), format_percent(t.error_rate), t.held ? "held" : "broke " + t.broken);
  std::string line = s.trials.empty() ? "no trial ran" : fmt::format("capacity {}", format_measured_rate(s.capacity));
  if (s.at_limit) line += " (at least: the search's up_to held)";
  if (s.broke_at && s.capacity > 0) line += fmt::format(", broke at {}", format_measured_rate(*s.broke_at));
  if (s.knee) line += fmt::format(", knee at {}", format_measured_rate(*s.knee));
  if (s.out_of_time) line += " (the time limit ended the search)";
  std::cout << "  " << line << "\n";
}

int run_capacity(context& ctx, const capacity_options& o) {
  engine::experiment x;
  if (o.target.starts_with("http://") || o.target.starts_with("https://")) {
    x = experiment_for_url(o);
  } else {
    x = engine::load_experiment(o.target, ctx.catalogue(), parse_vars(o.vars));
  }
  apply_options(o, x);

  engine::run_options options;
  options.state_path = o.state_path.empty() ? engine::state_file::default_path() : std::filesystem::path(o.state_path);
  options.tty = ::isatty(STDOUT_FILENO) != 0;
  engine::session run(x, ctx.faults, ctx.probes, options);
  auto j = run.run();

  const std::filesystem::path dir(o.report_dir);
  std::filesystem::create_directories(dir);
  const auto page = reports::suite_page_names(std::span<const reports::journal>(&j, 1)).front();
  const auto base = dir / page.substr(0, page.size() - 5);
  reports::write_journal(j, base.string() + ".journal.json");
  reports::write_reports(j, {dir / page, {}, base.string() + ".md"});

  for (const auto& s : j.analysis.capacity) print_curve(s);
  if (j.analysis.capacity.size() == 2 && !j.analysis.capacity[0].trials.empty() && !j.analysis.capacity[1].trials.empty())
    std::cout << fmt::format("\nholds {} healthy, {} while {}\n", format_measured_rate(j.analysis.capacity[0].capacity),
                             format_measured_rate(j.analysis.capacity[1].capacity), j.analysis.capacity[1].faults);
  std::cout << fmt::format("\n{} (exit {}): {}\njournal and report: {}.journal.json, {}\n", j.verdict.result,
                           j.verdict.exit_code, j.verdict.reason, base.string(), (dir / page).string());
  return j.verdict.exit_code;
}

}  // namespace

// `faultline capacity URL|FILE`: the highest arrival rate at which the rules hold, healthy and,
// for an experiment with faults, while they are active (docs/load.md).
void add_capacity_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("capacity", "Find the highest arrival rate at which the rules hold (healthy, and under the "
                                             "experiment's faults)");
  auto o = std::make_shared<capacity_options>();
  cmd->add_option("target", o->target, "http://host:port/path, or an experiment file (its load, rules and faults)")->required();
  cmd->add_option("--require", o->require, "a rule judged in each trial, repeatable, e.g. 'load.p95 < 200ms' "
                                           "(default: the experiment's load.capacity.require or steady_state.require)");
  for (const auto& spec : engine::capacity_search_params()) {
    if (spec.name == "require") continue;
    auto name = spec.name;
    std::replace(name.begin(), name.end(), '_', '-');
    cmd->add_option("--" + name, o->search[spec.name],
                    fmt::format("{} (default {})", spec.help, format_param(spec.kind, *spec.default_value)));
  }
  cmd->add_option("--at-least", o->at_least, "the capacity expected (exit 1 below it), e.g. 800/s");
  cmd->add_option("--under-fault-at-least", o->under_fault_at_least, "the capacity expected while the faults are active");
  cmd->add_option("--window", o->window, "analysis window (default 1s, or the experiment's settings.window)");
  cmd->add_option("--method,-X", o->method, "URL: HTTP method (default GET)");
  cmd->add_option("--header,-H", o->headers, "URL: extra header 'Name: value', repeatable");
  cmd->add_option("--body", o->body, "URL: request body");
  cmd->add_option("--timeout", o->timeout, "URL: a request that takes longer is a timeout (default 2s)");
  cmd->add_option("--expect-status", o->expect_status, "URL: the status counted as ok (default: any 2xx or 3xx)");
  cmd->add_option("--var", o->vars, "FILE: set a ${name} variable: name=value");
  cmd->add_option("--report-dir", o->report_dir, "where the journal and reports go (default: faultline-reports)");
  cmd->add_option("--state-file", o->state_path, "state file for crash recovery (default: " +
                                                     engine::state_file::default_path().string() + ")");
  cmd->callback([&ctx, o] { ctx.exit = run_capacity(ctx, *o); });
}

}  // namespace faultline::cli
