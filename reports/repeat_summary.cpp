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
    for (const auto& j : runs)
      if (auto v = get(j)) f.values.push_back(*v);
    if (f.values.empty()) continue;
    f.median = stats::median(f.values);
    if (f.values.size() >= 2) f.interval = stats::bootstrap(f.values, median, options);
    out.figures.push_back(std::move(f));
  }
  return out;
}

std::string render_repeat_text(const repeat_summary& summary) {
  std::string out = fmt::format("{}: passed {} of {}: {}", summary.experiment, summary.passed, summary.runs, summary.outcome());
  if (!summary.flipped.empty()) {
    std::string names;
    for (const auto& n : summary.flipped) names += (names.empty() ? "" : ", ") + n;
    out += fmt::format(" (flipped: {})", names);
  }
  out += fmt::format(" (exit {})\n", summary.exit_code());
  auto shown = [](const std::string& name, double v) {
    if (name == "score") return format_score(v);
    if (name == "breaker flaps") return format_number(v, 1);
    if (name.rfind("availability", 0) == 0) return format_percent(v);
    return format_seconds(v);
  };
  std::size_t width = 6;
  for (const auto& f : summary.figures) width = std::max(width, f.name.size());
  out += fmt::format("  {:<{}}  median [95 % interval]\n", "figure", width);
  for (const auto& f : summary.figures) {
    std::string line = fmt::format("  {:<{}}  {}", f.name, width, shown(f.name, f.median));
    if (f.interval) line += fmt::format(" [{}, {}]", shown(f.name, f.interval->low), shown(f.name, f.interval->high));
    line += fmt::format("  ({} run{})", f.values.size(), f.values.size() == 1 ? "" : "s");
    out += line + "\n";
  }
  return out;
}

}  // namespace faultline::reports
