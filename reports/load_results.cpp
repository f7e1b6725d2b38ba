#include "reports/load_results.hpp"

#include "reports/charts.hpp"
#include "reports/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace faultline::reports {

namespace {

std::string rules_text(const std::vector<rule_result>& rules) {
  std::string out;
  for (const auto& r : rules)
    out += fmt::format("{}{} {} (measured {})", out.empty() ? "" : "; ", r.held ? "held" : "missed", r.rule, r.measured);
  return out;
}

std::vector<capacity_point> by_rate(std::vector<capacity_point> trials) {
  std::sort(trials.begin(), trials.end(), [](const auto& a, const auto& b) { return a.rate < b.rate; });
  return trials;
}

std::string search_title(const capacity_search_record& s) {
  return s.condition == "healthy" ? std::string("healthy") : "while " + s.faults;
}

std::string search_outcome(const capacity_search_record& s) {
  if (s.trials.empty()) return "no trial ran";
  std::string out = fmt::format("capacity {}", format_measured_rate(s.capacity));
  if (s.at_limit) out += " (at least: the search's limit held)";
  if (s.broke_at && s.capacity > 0) out += fmt::format(", broke at {}", format_measured_rate(*s.broke_at));
  if (s.knee) out += fmt::format(", knee at {}", format_measured_rate(*s.knee));
  if (s.out_of_time) out += " (the time limit ended the search)";
  return out;
}

// The curve of p99 against rate for every search, one panel.
std::string capacity_figure(const analysis_record& a) {
  double max_rate = 0, max_p99 = 0;
  for (const auto& s : a.capacity)
    for (const auto& t : s.trials) {
      max_rate = std::max(max_rate, t.rate);
      if (t.p99) max_p99 = std::max(max_p99, *t.p99);
    }
  if (max_rate <= 0 || max_p99 <= 0) return {};
  constexpr double width = 720, height = 260, left = 64, right = 16, top = 12, bottom = 40;
  const auto x_ticks = nice_ticks(max_rate, 6);
  const auto y_ticks = nice_ticks(max_p99, 5);
  const linear_scale x{0, x_ticks.back(), left, width - right};
  const linear_scale y{0, y_ticks.back(), height - bottom, top};
  std::string out = fmt::format("<svg class=\"timeline capacity-curve\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"p99 latency against "
                                "arrival rate\">\n",
                                width, height);
  out += fmt::format("<g class=\"panel\" data-panel=\"capacity\" data-x-domain=\"{} {}\" data-x-range=\"{} {}\" data-y-domain=\"{} {}\" "
                     "data-y-range=\"{} {}\">\n",
                     x.domain_min, x.domain_max, x.range_min, x.range_max, y.domain_min, y.domain_max, y.range_min, y.range_max);
  for (double v : x_ticks)
    out += fmt::format("<line class=\"grid\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\"/><text class=\"tick\" x=\"{0:.1f}\" "
                       "y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                       x(v), top, height - bottom, height - bottom + 14, xml_escape(format_measured_rate(v)));
  for (double v : y_ticks)
    out += fmt::format("<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/><text class=\"tick\" x=\"{3}\" "
                       "y=\"{2:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{4}</text>\n",
                       left, width - right, y(v), left - 6, xml_escape(format_seconds(v)));
  out += fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">arrival rate (p99 latency of each trial; a "
                     "hollow point broke a rule)</text>\n",
                     (left + width - right) / 2, height - 6);
  for (const auto& s : a.capacity) {
    const auto colour = s.condition == "healthy" ? "var(--accent)" : "#cf222e";
    std::string path;
    std::string points;
    for (const auto& t : by_rate(s.trials)) {
      if (!t.p99) continue;
      path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", x(t.rate), y(*t.p99));
      points += fmt::format("<circle data-rate=\"{}\" data-p99=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\" stroke=\"{}\">"
                            "<title>{}: p99 {}, errors {}, {}</title></circle>\n",
                            t.rate, *t.p99, x(t.rate), y(*t.p99), t.held ? colour : "white", colour,
                            xml_escape(format_measured_rate(t.rate)), xml_escape(format_seconds(*t.p99)),
                            xml_escape(format_percent(t.error_rate)), t.held ? "held" : xml_escape("broke " + t.broken));
    }
    if (path.empty()) continue;
    out += fmt::format("<path data-series=\"{}\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", xml_escape(s.condition),
                       path, colour);
    out += points;
  }
  out += "</g>\n</svg>\n";
  return out;
}

}  // namespace

std::string levels_markdown(const analysis_record& a) {
  if (a.levels.empty()) return {};
  std::string out = "| | Level | Load | Achieved | p50 | p95 | p99 | Errors | Rules |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& l : a.levels)
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", l.held ? "✅" : "❌", markdown_cell(l.name),
                       markdown_cell(l.load), format_measured_rate(l.rate), format_seconds(l.p50), format_seconds(l.p95),
                       format_seconds(l.p99), format_percent(l.error_rate), markdown_cell(rules_text(l.rules)));
  return out + "\n";
}

std::string capacity_markdown(const analysis_record& a) {
  std::string out;
  for (const auto& s : a.capacity) {
    out += fmt::format("**Capacity, {}**: {}\n\n", markdown_cell(search_title(s)), markdown_cell(search_outcome(s)));
    if (s.trials.empty()) continue;
    out += "| Rate | Answered | p50 | p95 | p99 | Errors | Rules |\n|---|---|---|---|---|---|---|\n";
    for (const auto& t : by_rate(s.trials))
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", format_measured_rate(t.rate), format_measured_rate(t.achieved),
                         format_seconds(t.p50), format_seconds(t.p95), format_seconds(t.p99), format_percent(t.error_rate),
                         t.held ? "held" : markdown_cell("broke " + t.broken));
    out += "\n";
  }
  return out;
}

std::string levels_html(const analysis_record& a) {
  if (a.levels.empty()) return {};
  std::string out = "<section class=\"card\" id=\"levels\">\n<h2>Levels</h2>\n<table>\n<thead><tr><th>Status</th><th>Level</th>"
                    "<th>Load</th><th class=\"num\">Achieved</th><th class=\"num\">p50</th><th class=\"num\">p95</th>"
                    "<th class=\"num\">p99</th><th class=\"num\">Errors</th><th>Rules</th></tr></thead>\n<tbody>\n";
  for (const auto& l : a.levels) {
    std::string rules;
    for (const auto& r : l.rules)
      rules += fmt::format("<div class=\"{}\"><span class=\"mono\">{}</span> <span class=\"sub\">measured {}</span></div>",
                           r.held ? "met" : "missed", xml_escape(r.rule), xml_escape(r.measured));
    out += fmt::format("<tr data-level=\"{}\"><td><span class=\"pill {}\">{}</span></td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
                       "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                       xml_escape(l.name), l.held ? "met" : "missed", l.held ? "held" : "missed", xml_escape(l.name),
                       xml_escape(l.load), xml_escape(format_measured_rate(l.rate)), xml_escape(format_seconds(l.p50)),
                       xml_escape(format_seconds(l.p95)), xml_escape(format_seconds(l.p99)), xml_escape(format_percent(l.error_rate)),
                       rules);
  }
  return out + "</tbody>\n</table>\n</section>\n";
}

std::string capacity_html(const analysis_record& a) {
  if (a.capacity.empty()) return {};
  std::string out = "<section class=\"card\" id=\"capacity\">\n<h2>Capacity</h2>\n";
  for (const auto& s : a.capacity)
    out += fmt::format("<p data-condition=\"{}\"><b>{}</b>: {}</p>\n", xml_escape(s.condition), xml_escape(search_title(s)),
                       xml_escape(search_outcome(s)));
  out += capacity_figure(a);
  for (const auto& s : a.capacity) {
    if (s.trials.empty()) continue;
    out += fmt::format("<h3>{}</h3>\n<table>\n<thead><tr><th class=\"num\">Rate</th><th class=\"num\">Answered</th><th class=\"num\">p50"
                       "</th><th class=\"num\">p95</th><th class=\"num\">p99</th><th class=\"num\">Errors</th><th>Rules</th></tr></thead>\n"
                       "<tbody>\n",
                       xml_escape(search_title(s)));
    for (const auto& t : by_rate(s.trials))
      out += fmt::format("<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                         "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                         xml_escape(format_measured_rate(t.rate)), xml_escape(format_measured_rate(t.achieved)),
                         xml_escape(format_seconds(t.p50)), xml_escape(format_seconds(t.p95)), xml_escape(format_seconds(t.p99)),
                         xml_escape(format_percent(t.error_rate)), t.held ? "held" : xml_escape("broke " + t.broken));
    out += "</tbody>\n</table>\n";
  }
  return out + "</section>\n";
}

}  // namespace faultline::reports
