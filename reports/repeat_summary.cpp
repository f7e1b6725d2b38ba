#include "reports/repeat_summary.hpp"

#include "reports/format.hpp"
#include "reports/run_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

namespace faultline::reports {

std::string repeat_summary::outcome() const {
  if (worst_exit >= 2) return "incomplete";
  if (passed == runs) return "passed";
  return passed == 0 ? "failed" : "flaky";
}

int repeat_summary::exit_code() const {
  // An aborted or broken run says more than flakiness: its code wins.
  if (worst_exit >= 2) return worst_exit;
  if (passed == runs) return 0;
  return passed == 0 ? 1 : flaky_exit_code;
}

namespace {

using getter = std::function<std::optional<double>(const journal&)>;

getter phase_figure(const std::string& series, const std::string& phase, std::optional<double> phase_stat::*field) {
  return [=](const journal& j) -> std::optional<double> {
    const auto* s = find_phase_stat(j, series, phase);
    return s ? s->*field : std::nullopt;
  };
}

}  // namespace

repeat_summary summarize_repeats(std::span<const journal> runs, const stats::bootstrap_options& options) {
  repeat_summary out;
  out.runs = runs.size();
  if (runs.empty()) return out;
  out.experiment = runs.front().experiment.name;
  std::map<std::string, std::pair<std::size_t, std::size_t>> met;  // expectation -> (met, missed)
  std::vector<std::string> order;
  for (const auto& j : runs) {
    if (j.verdict.result == "passed") ++out.passed;
    out.results.push_back(j.verdict.result);
    out.worst_exit = std::max(out.worst_exit, j.verdict.exit_code);
    for (const auto& e : j.analysis.expectations) {
      if (!met.count(e.name)) order.push_back(e.name);
      (e.met ? met[e.name].first : met[e.name].second)++;
    }
  }
  for (const auto& name : order)
    if (met[name].first > 0 && met[name].second > 0) out.flipped.push_back(name);

  std::vector<std::pair<std::string, getter>> figures{
      {"score", [](const journal& j) -> std::optional<double> { return j.analysis.score; }},
      {"availability load/fault", [](const journal& j) -> std::optional<double> {
         const auto* s = find_phase_stat(j, "load", "fault");
         return s ? std::optional<double>(s->availability) : std::nullopt;
       }}};
  for (const auto& phase : ordered_phase_names(runs.front())) {
    figures.emplace_back("p95 load/" + phase, phase_figure("load", phase, &phase_stat::p95));
    figures.emplace_back("p99 load/" + phase, phase_figure("load", phase, &phase_stat::p99));
  }
  figures.emplace_back("mttd", [](const journal& j) { return j.analysis.mttd; });
  figures.emplace_back("mttr", [](const journal& j) { return j.analysis.mttr; });
  figures.emplace_back("breaker time_to_open", [](const journal& j) { return j.analysis.breaker ? j.analysis.breaker->time_to_open : std::nullopt; });
  figures.emplace_back("breaker time_to_close", [](const journal& j) { return j.analysis.breaker ? j.analysis.breaker->time_to_close : std::nullopt; });
  figures.emplace_back("breaker flaps", [](const journal& j) -> std::optional<double> {
    return j.analysis.breaker ? std::optional<double>(static_cast<double>(j.analysis.breaker->flaps)) : std::nullopt;
  });

  auto median = [](std::span<const double> v) { return stats::median(v); };
  for (const auto& [name, get] : figures) {
    repeat_figure f;
    f.name = name;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (auto v = get(runs[i])) {
        f.values.push_back(*v);
        f.runs.push_back(i + 1);
      }
    if (f.values.empty()) continue;
    f.median = stats::median(f.values);
    if (f.values.size() >= 2) f.interval = stats::bootstrap(f.values, median, options);
    out.figures.push_back(std::move(f));
  }

  // Margins: per expectation and quantity, in the order the runs list them.
  std::vector<std::pair<std::string, std::string>> keys;
  std::map<std::pair<std::string, std::string>, std::vector<margin_record>> per_run;
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> run_numbers;
  std::map<std::pair<std::string, std::string>, std::size_t> met_runs;
  for (std::size_t i = 0; i < runs.size(); ++i)
    for (const auto& e : runs[i].analysis.expectations)
      for (const auto& m : e.margins) {
        auto key = std::make_pair(e.name, m.quantity);
        if (!per_run.count(key)) keys.push_back(key);
        per_run[key].push_back(m);
        run_numbers[key].push_back(i + 1);
        if (e.met) ++met_runs[key];
      }
  for (const auto& key : keys) {
    repeat_margin r;
    r.expectation = key.first;
    r.met = met_runs[key];
    for (const auto& m : per_run[key]) r.values.push_back(m.margin);
    r.runs = run_numbers[key];
    r.margin = margin_across_runs(per_run[key], options);
    out.margins.push_back(std::move(r));
  }
  return out;
}

std::string format_figure_value(const std::string& figure, double v) {
  if (figure == "score") return format_score(v);
  if (figure == "breaker flaps") return format_number(v, 1);
  if (figure.rfind("availability", 0) == 0) return format_percent(v);
  return format_seconds(v);
}

std::string render_repeat_text(const repeat_summary& summary) {
  std::string out = fmt::format("{}: passed {} of {}: {}", summary.experiment, summary.passed, summary.runs, summary.outcome());
  if (!summary.flipped.empty()) {
    std::string names;
    for (const auto& n : summary.flipped) names += (names.empty() ? "" : ", ") + n;
    out += fmt::format(" (flipped: {})", names);
  }
  out += fmt::format(" (exit {})\n", summary.exit_code());
  const auto& shown = format_figure_value;
  std::size_t width = 6;
  for (const auto& f : summary.figures) width = std::max(width, f.name.size());
  out += fmt::format("  {:<{}}  median [95 % interval]\n", "figure", width);
  for (const auto& f : summary.figures) {
    std::string line = fmt::format("  {:<{}}  {}", f.name, width, shown(f.name, f.median));
    if (f.interval) line += fmt::format(" [{}, {}]", shown(f.name, f.interval->low), shown(f.name, f.interval->high));
    line += fmt::format("  ({} run{})", f.values.size(), f.values.size() == 1 ? "" : "s");
    out += line + "\n";
  }
  if (!summary.margins.empty()) {
    std::size_t name_width = 11, quantity_width = 8;
    for (const auto& m : summary.margins) {
      name_width = std::max(name_width, m.expectation.size());
      quantity_width = std::max(quantity_width, m.margin.quantity.size());
    }
    out += fmt::format("  {:<{}}  {:<{}}  median margin to the target [95 % interval across runs]\n", "expectation", name_width,
                       "quantity", quantity_width);
    for (const auto& m : summary.margins)
      out += fmt::format("  {:<{}}  {:<{}}  {}  (met in {} of {})\n", m.expectation, name_width, m.margin.quantity, quantity_width,
                         format_margin(m.margin), m.met, m.values.size());
  }
  return out;
}

}  // namespace faultline::reports
